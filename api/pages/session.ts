import type { NextFunction, Request, RequestHandler, Response } from 'express';
import cookieSession from 'cookie-session';
import { csrfSync } from 'csrf-sync';
import { auth as openIdConnect } from 'express-openid-connect';
import { z } from 'zod';
import { staffIdSchema } from '../../domain/ids';
import { roles, type Principal, type Role, type Scope } from '../auth';
import { HttpError } from '../errors';

/**
 * Who is signed in to the pages. The session is a signed cookie (cookie-session: httpOnly,
 * SameSite=Lax, Secure in production) holding the principal, the CSRF token and one flash
 * message, nothing about a case. Production signs people in through the council's identity
 * provider (OpenID Connect, express-openid-connect), reading roles and teams from
 * configured claims; the embedded default (one machine, never production) has a local
 * sign-in page that picks a role, a staff id and a team. Either way the result is the same
 * Principal the API builds from a bearer token, so the API's role rules and team scope
 * (api/auth.ts, api/scope.ts) apply unchanged.
 */
export type SignIn =
  | { mode: 'local' }
  | {
      mode: 'oidc';
      issuerBaseURL: string;
      baseURL: string;
      clientID: string;
      clientSecret: string;
      /** Claim names: staff id (opaque, e.g. an employee number), roles, teams, and every team. */
      claims: { staffId: string; roles: string; teams: string; allTeams: string };
    };

export interface PagesOptions {
  /** Keys that sign the session cookie; the first signs, all verify (rotation). At least 32 characters each. */
  sessionKeys: string[];
  /** Cookies only over https (production). */
  secureCookies: boolean;
  signIn: SignIn;
  /** How long a session lasts. */
  sessionHours?: number;
}

export const SESSION_COOKIE = 'assessment-session';

const teamCode = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const sessionPrincipalSchema = z.object({
  sub: staffIdSchema,
  roles: z.array(z.enum(roles)).min(1),
  scope: z.union([z.object({ allTeams: z.literal(true) }), z.object({ allTeams: z.literal(false), teams: z.array(teamCode).max(100) })]),
});

export interface PageSession {
  principal?: Principal;
  csrfToken?: string;
  flash?: { kind: 'decision-recorded'; promptId: string; decision: string };
}

export function sessionOf(req: Request): PageSession {
  return ((req as unknown as { session?: PageSession | null }).session ??= {});
}

export function clearSession(req: Request): void {
  (req as unknown as { session: PageSession | null }).session = null;
}

export function sessionMiddleware(options: PagesOptions): RequestHandler {
  return cookieSession({
    name: SESSION_COOKIE,
    keys: options.sessionKeys,
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: options.secureCookies,
    maxAge: (options.sessionHours ?? 8) * 3_600_000,
    path: '/',
  });
}

/** Synchroniser-token CSRF protection (csrf-sync): the token lives in the session, every form posts it as `_csrf`. */
export const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    return typeof body?._csrf === 'string' ? body._csrf : undefined;
  },
  getTokenFromState: (req) => sessionOf(req).csrfToken,
  storeTokenInState: (req, token) => {
    sessionOf(req).csrfToken = token ?? undefined;
  },
  errorConfig: { statusCode: 403, code: 'csrf-refused', message: 'the form could not be checked (CSRF)' },
});

/** The OpenID Connect client (production): its own encrypted session cookie, routes /sign-in, /sign-in/callback, /sign-out. */
export function openIdConnectMiddleware(signIn: Extract<SignIn, { mode: 'oidc' }>, options: PagesOptions): RequestHandler {
  return openIdConnect({
    issuerBaseURL: signIn.issuerBaseURL,
    baseURL: signIn.baseURL,
    clientID: signIn.clientID,
    clientSecret: signIn.clientSecret,
    secret: options.sessionKeys,
    authRequired: false,
    idpLogout: true,
    authorizationParams: { response_type: 'code', scope: 'openid profile' },
    routes: { login: '/sign-in', logout: '/sign-out', callback: '/sign-in/callback', postLogoutRedirect: '/' },
    session: { cookie: { httpOnly: true, sameSite: 'Lax', secure: options.secureCookies }, absoluteDuration: (options.sessionHours ?? 8) * 3600 },
  });
}

/** The principal from an identity provider's claims: the same shape and rules as a bearer token's. */
export function principalFromClaims(claims: Record<string, unknown>, names: Extract<SignIn, { mode: 'oidc' }>['claims']): Principal {
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : []);
  const scope: Scope = claims[names.allTeams] === true ? { allTeams: true } : { allTeams: false, teams: list(claims[names.teams]) };
  const parsed = sessionPrincipalSchema.safeParse({
    sub: claims[names.staffId],
    roles: list(claims[names.roles]).filter((role): role is Role => (roles as readonly string[]).includes(role)),
    scope,
  });
  if (!parsed.success) {
    // Never echo the claims: they may hold a name or an e-mail address.
    throw new HttpError(403, 'forbidden', 'your account has no opaque staff id, or no role of this service, in the claims this service reads');
  }
  return parsed.data;
}

/**
 * Sets res.locals.principal from the session (local) or the identity provider (OIDC);
 * without one, a page asks the person to sign in and come back.
 */
export function signedIn(signIn: SignIn) {
  return (req: Request, res: Response, next: NextFunction): void => {
    try {
      const principal = currentPrincipal(req, signIn);
      if (principal) {
        res.locals.principal = principal;
        return next();
      }
    } catch (error) {
      return next(error);
    }
    const returnTo = req.method === 'GET' ? req.originalUrl : '/';
    res.redirect(303, `/sign-in?returnTo=${encodeURIComponent(returnTo)}`);
  };
}

export function currentPrincipal(req: Request, signIn: SignIn): Principal | undefined {
  if (signIn.mode === 'oidc') {
    const oidc = (req as unknown as { oidc?: { isAuthenticated(): boolean; idTokenClaims?: Record<string, unknown> } }).oidc;
    if (!oidc?.isAuthenticated() || !oidc.idTokenClaims) return undefined;
    return principalFromClaims(oidc.idTokenClaims, signIn.claims);
  }
  const stored = sessionPrincipalSchema.safeParse(sessionOf(req).principal);
  return stored.success ? stored.data : undefined;
}

/** A path on this site to return to after signing in (never another site: `//host` and `/\host` are refused). */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[A-Za-z0-9/_.~%?=&:-]*$/.test(value) && value.length <= 500 ? value : '/';
}

export function localPrincipalSchema() {
  return z.object({
    role: z.enum(roles, { message: 'Select a role' }),
    staffId: staffIdSchema,
    team: z.union([z.literal(''), teamCode]).optional(),
    allTeams: z.literal('yes').optional(),
  });
}

/** Where a person lands after signing in: what their roles are for. */
export function startPage(principal: Principal): string {
  if (principal.roles.includes('manager')) return '/inbox';
  if (principal.roles.includes('operations')) return '/reports/timeliness';
  return '/inbox'; // answered by the refusal page: these pages are for managers and operations staff
}

