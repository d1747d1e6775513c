import type { NextFunction, Request, Response } from 'express';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { staffIdSchema } from '../domain/ids';
import { HttpError } from './errors';

export const roles = ['system', 'social_worker', 'manager', 'operations'] as const;
export type Role = (typeof roles)[number];

/** Roles that are a person: what they send is recorded under their own staff id. */
export const humanRoles: Role[] = ['social_worker', 'manager', 'operations'];

/**
 * Whose cases a caller may touch: every team only when the token says so (`all_teams`),
 * never because a claim is missing; otherwise the teams it names (possibly none).
 */
export type Scope = { allTeams: true } | { allTeams: false; teams: string[] };

/** Who is calling, from a verified token. */
export interface Principal {
  /** An opaque staff id (never an e-mail address: it reaches logs and the record). */
  sub: string;
  roles: Role[];
  scope: Scope;
}

export type AuthOptions =
  | { mode: 'secret'; secret: string; issuer?: string; audience?: string; maxTokenAge?: string }
  | { mode: 'jwks'; jwksUrl: string; issuer: string; audience: string; maxTokenAge?: string };

export type TokenVerifier = (token: string) => Promise<Principal>;

/** How far a token's times may be off this server's clock (seconds). */
export const CLOCK_TOLERANCE_SECONDS = 60;
/** The oldest token accepted, by its `iat`, whatever its `exp` (API_JWT_MAX_AGE). */
export const DEFAULT_MAX_TOKEN_AGE = '12h';

const teamCode = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);

const claimsSchema = z.object({
  sub: staffIdSchema,
  roles: z.array(z.string()).min(1).max(10),
  teams: z.array(teamCode).max(100).optional(),
  all_teams: z.boolean().optional(),
});

/** Why a token was refused (for the log; the caller gets one answer for every reason). */
export class TokenRefused extends Error {}

/**
 * HS256 with a shared secret (local use), or a JWKS (production). Every token needs `exp`
 * and `iat`, is no older than the maximum age, and names an opaque staff id as `sub`.
 */
export function createVerifier(options: AuthOptions): TokenVerifier {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[] | undefined;
  if (options.mode === 'secret') {
    key = new TextEncoder().encode(options.secret);
    algorithms = ['HS256'];
  } else {
    key = createRemoteJWKSet(new URL(options.jwksUrl));
    algorithms = ['RS256', 'PS256', 'ES256', 'EdDSA'];
  }
  const verifyOptions = {
    algorithms,
    requiredClaims: ['exp', 'iat', 'sub'],
    maxTokenAge: options.maxTokenAge ?? DEFAULT_MAX_TOKEN_AGE,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  return async (token) => {
    const { payload } = typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new TokenRefused(`claims: ${claims.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    const known = claims.data.roles.filter((role): role is Role => (roles as readonly string[]).includes(role));
    const scope: Scope = claims.data.all_teams === true ? { allTeams: true } : { allTeams: false, teams: claims.data.teams ?? [] };
    return { sub: claims.data.sub, roles: known, scope };
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new HttpError(401, 'unauthenticated', 'a bearer token is required');
  return principal;
}

/** Whether every role of the caller is a person's (a system caller acts for others). */
export function isHuman(principal: Principal): boolean {
  return !principal.roles.includes('system');
}

/** 401 without a valid bearer token. */
export function authenticate(verify: TokenVerifier) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (!match?.[1]) {
      res.set('www-authenticate', 'Bearer');
      return next(new HttpError(401, 'unauthenticated', 'a bearer token is required'));
    }
    try {
      res.locals.principal = await verify(match[1]);
    } catch {
      res.set('www-authenticate', 'Bearer error="invalid_token"');
      return next(
        new HttpError(401, 'unauthenticated', 'the token is invalid or expired (it needs exp, iat, an opaque staff id as sub, and an age within the limit)'),
      );
    }
    next();
  };
}

/** 403 unless the caller holds one of these roles. */
export function requireRole(...allowed: Role[]) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const principal = principalOf(res);
    if (!principal.roles.some((role) => allowed.includes(role))) {
      return next(new HttpError(403, 'forbidden', `this needs one of the roles: ${allowed.join(', ')}`));
    }
    next();
  };
}
