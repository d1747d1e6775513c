// Enhancement only: every page works without JavaScript (then every decision's fields are
// shown). The CSP allows scripts from this site only.
import { Button, ErrorSummary, NotificationBanner, ServiceNavigation, SkipLink, createAll } from '/assets/govuk/govuk-frontend.min.js';
import { initAll as initMoj } from '/assets/moj/moj-frontend.min.js';

// GOV.UK Frontend's components, except its Radios: that one marks radios aria-expanded,
// an attribute ARIA does not allow on a radio (axe: aria-allowed-attr, critical).
for (const Component of [Button, ErrorSummary, NotificationBanner, ServiceNavigation, SkipLink]) createAll(Component);
initMoj();

// The conditional reveal of radios (a decision's own fields, a checklist item's reason):
// the same markup and classes, with aria-controls (allowed on a radio) and no aria-expanded.
for (const input of document.querySelectorAll('.govuk-radios__input[data-aria-controls]')) {
  const target = document.getElementById(input.dataset.ariaControls);
  if (!target) continue;
  input.setAttribute('aria-controls', target.id);
  input.removeAttribute('data-aria-controls');
}
const sync = () => {
  for (const input of document.querySelectorAll('.govuk-radios__input[aria-controls]')) {
    const target = document.getElementById(input.getAttribute('aria-controls'));
    target?.classList.toggle('govuk-radios__conditional--hidden', !input.checked);
  }
};
document.addEventListener('change', (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type === 'radio') sync();
});
sync();
