// Enhancement only: every page works without JavaScript. GOV.UK Frontend's components
// (conditional reveal of a decision's fields, the error summary's focus) and MoJ's sortable
// tables start here; the CSP allows scripts from this site only.
import { initAll } from '/assets/govuk/govuk-frontend.min.js';
import { initAll as initMoj } from '/assets/moj/moj-frontend.min.js';

initAll();
initMoj();
