import type { NextFunction, Request, Response } from 'express';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { HttpError } from './errors';

export const roles = ['system', 'social_worker', 'manager', 'operations'] as const;
export type Role = (typeof roles)[number];

/** Who is calling, from a verified token. */
export interface Principal {
  sub: string;
  roles: Role[];
  /** A manager restricted to one team; absent = no team restriction. */
  team?: string;
}

export type AuthOptions =
  | { mode: 'secret'; secret: string; issuer?: string; audience?: string }
  | { mode: 'jwks'; jwksUrl: string; issuer: string; audience: string };

export type TokenVerifier = (token: string) => Promise<Principal>;

const claimsSchema = z.object({
  sub: z.string().min(1).max(128),
  roles: z.array(z.string()).min(1),
  team: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/).optional(),
});

/** HS256 with a shared secret (local use), or a JWKS with issuer and audience checks (production). */
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
  return async (token) => {
    const verifyOptions = { algorithms, ...(options.issuer ? { issuer: options.issuer } : {}), ...(options.audience ? { audience: options.audience } : {}) };
    const { payload } =
      typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
    const claims = claimsSchema.parse(payload);
    const known = claims.roles.filter((role): role is Role => (roles as readonly string[]).includes(role));
    return { sub: claims.sub, roles: known, ...(claims.team ? { team: claims.team } : {}) };
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new HttpError(401, 'unauthenticated', 'a bearer token is required');
  return principal;
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
      return next(new HttpError(401, 'unauthenticated', 'the token is invalid or expired'));
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
