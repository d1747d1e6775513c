import { SignJWT } from 'jose';
import type { Role } from './auth';

/** The scope claims of a token: the teams whose cases it may touch, or every team (an explicit claim, never the absence of one). */
export interface ScopeClaims {
  teams?: string[];
  allTeams?: boolean;
}

/** Signs a local HS256 token (npm run token, tests). Production tokens come from the identity provider. */
export async function signLocalToken(
  secret: string,
  claims: { sub: string; roles: Role[] } & ScopeClaims,
  options: { expiresIn?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({ roles: claims.roles, ...(claims.teams ? { teams: claims.teams } : {}), ...(claims.allTeams ? { all_teams: true } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '8h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
