import { dirname, join } from 'node:path';
import type { Response } from 'express';
import { DateTime } from 'luxon';
import nunjucks from 'nunjucks';
import type { Principal } from '../auth';

/**
 * Nunjucks with autoescape on (everything rendered is escaped unless a template says
 * otherwise), finding the project's views and the GOV.UK and MoJ Frontend macros in
 * node_modules. Views are .njk files next to this one: `npm start` runs from the sources,
 * and the Dockerfile copies `api/` whole, so they travel with the code.
 */
export const VIEWS_DIR = join(__dirname, 'views');
export const GOVUK_FRONTEND_DIST = join(dirname(require.resolve('govuk-frontend/package.json')), 'dist');
export const MOJ_FRONTEND_ROOT = dirname(require.resolve('@ministryofjustice/frontend/package.json'));

const ZONE = 'Europe/London';

export function londonTime(instant: string | undefined, format = "d MMM yyyy 'at' h:mma"): string {
  if (!instant) return '';
  const at = DateTime.fromISO(instant, { zone: 'utc' }).setZone(ZONE);
  return at.isValid ? at.toFormat(format).replace('AM', 'am').replace('PM', 'pm') : '';
}

export function createViews(): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader([VIEWS_DIR, GOVUK_FRONTEND_DIST, MOJ_FRONTEND_ROOT], { noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('londonTime', (instant: string | undefined) => londonTime(instant));
  env.addFilter('londonDate', (instant: string | undefined) => londonTime(instant, 'd MMM yyyy'));
  // The MoJ timeline component formats its dates with this filter (MoJ's own needs moment).
  env.addFilter('mojDate', (instant: string | undefined) => londonTime(instant));
  env.addFilter('humanise', humanise);
  return env;
}

/** 'child-seen-alone-and-views-recorded' or 'childInNeed' → 'Child seen alone and views recorded' / 'Child in need'. */
export function humanise(value: unknown): string {
  const text = String(value ?? '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([a-z])([0-9])/g, '$1 $2')
    .replace(/[-_]+/g, ' ')
    .trim()
    .toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export interface PageLocals {
  principal?: Principal;
  csrfToken?: string;
  cspNonce?: string;
  signInMode?: 'local' | 'oidc';
}

/** Renders a view with what every page needs (the signed-in person, the CSRF token, the CSP nonce). */
export function renderPage(env: nunjucks.Environment, res: Response, view: string, context: Record<string, unknown> = {}, status = 200): void {
  const locals = res.locals as PageLocals;
  const html = env.render(view, {
    principal: locals.principal,
    csrfToken: locals.csrfToken,
    cspNonce: locals.cspNonce,
    signInMode: locals.signInMode,
    navigation: navigationFor(locals.principal, context.section),
    ...context,
  });
  res.status(status).type('html').send(html);
}

/** The service navigation: what this person's roles open to them. */
function navigationFor(principal: Principal | undefined, section: unknown): Array<{ href: string; text: string; active: boolean }> {
  if (!principal) return [];
  const items: Array<{ href: string; text: string; active: boolean }> = [];
  if (principal.roles.includes('manager')) items.push({ href: '/inbox', text: 'Inbox', active: section === 'inbox' });
  if (principal.roles.some((role) => role === 'manager' || role === 'operations')) {
    items.push({ href: '/reports/timeliness', text: 'Timeliness', active: section === 'reports' });
  }
  return items;
}
