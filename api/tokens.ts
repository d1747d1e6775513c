import { SignJWT } from 'jose';
import type { Role } from './auth';

/** Signs a local HS256 token (npm run token, tests). Production tokens come from the identity provider. */
export async function signLocalToken(
  secret: string,
  claims: { sub: string; roles: Role[]; team?: string },
  options: { expiresIn?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({ roles: claims.roles, ...(claims.team ? { team: claims.team } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '8h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
