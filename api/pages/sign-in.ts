import { Router } from 'express';
import type { Principal } from '../auth';
import type { PagesContext } from './index';
import { clearSession, csrf, localPrincipalSchema, safeReturnTo, sessionOf, startPage } from './session';

/**
 * The local sign-in of the embedded default: pick a role, a staff id and a team. It stands
 * in for the identity provider on one machine (never in production: pageRoutes refuses it),
 * and makes the same Principal a token would, so every rule downstream is the API's.
 * With OpenID Connect these paths belong to express-openid-connect.
 */
export function signInRoutes(pages: PagesContext): Router {
  const router = Router();
  if (pages.options.signIn.mode !== 'local') return router;

  router.get('/sign-in', (req, res) => {
    pages.render(res, 'sign-in.njk', { title: 'Sign in', values: {}, fieldErrors: {}, errors: [], returnTo: safeReturnTo(req.query.returnTo) });
  });

  router.post('/sign-in', ...pages.form, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { role: body.role, staffId: body.staffId, team: body.team, allTeams: body.allTeams };
    const parsed = localPrincipalSchema().safeParse(values);
    const fieldErrors: Record<string, string> = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'role');
        fieldErrors[field] ??= field === 'role' ? 'Select a role' : field === 'staffId' ? `Enter a staff id: ${issue.message}` : `Enter a team code: ${issue.message}`;
      }
    } else if (!parsed.data.allTeams && !parsed.data.team) {
      fieldErrors.team = 'Enter a team code, or choose every team';
    }
    if (!parsed.success || Object.keys(fieldErrors).length > 0) {
      const errors = Object.entries(fieldErrors).map(([field, text]) => ({ text, href: `#${field}` }));
      return pages.render(res, 'sign-in.njk', { title: 'Sign in', values, fieldErrors, errors, returnTo: safeReturnTo(body.returnTo) }, 422);
    }
    const { role, staffId, team, allTeams } = parsed.data;
    const principal: Principal = { sub: staffId, roles: [role], scope: allTeams ? { allTeams: true } : { allTeams: false, teams: [team as string] } };
    sessionOf(req).principal = principal;
    // A new token for the signed-in session: one seen before signing in is not enough to post as this person.
    csrf.generateToken(req, true);
    const returnTo = safeReturnTo(body.returnTo);
    res.redirect(303, returnTo === '/' ? startPage(principal) : returnTo);
  });

  router.post('/sign-out', ...pages.form, (req, res) => {
    clearSession(req);
    res.redirect(303, '/sign-in');
  });

  return router;
}
