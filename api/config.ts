import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../common/layout';
import type { AuthOptions } from './auth';
import type { PagesOptions } from './pages/session';

/**
 * The API's own settings (apart from common/config.ts, which the worker shares). Without
 * API_JWKS_URL or API_JWT_SECRET the API uses a local secret generated once under
 * DATA_DIR/api-jwt-secret: the embedded default for one machine, never for production.
 */
const apiConfigSchema = z.object({
  DATA_DIR: z.string().default(resolve(projectRoot, '.data')),
  API_JWT_SECRET: z.string().min(32, 'API_JWT_SECRET must be at least 32 characters').optional(),
  API_JWKS_URL: z.url().optional(),
  API_JWT_ISSUER: z.string().min(1).optional(),
  API_JWT_AUDIENCE: z.string().min(1).optional(),
  AUDIT_LOG_FILE: z.string().min(1).optional(),
  API_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
  API_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(600),
  API_READ_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(1200),
  API_ADDRESS_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(3000),
  /** How many proxies stand in front of the API (their X-Forwarded-For is believed); 0: none. */
  API_TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /** The oldest token accepted by its iat, e.g. 12h (jose time span). */
  API_JWT_MAX_AGE: z.string().regex(/^\d+\s*(s|m|h|d)$/, 'must be a time span such as 12h or 30m').default('12h'),
  /** Social workers reach their teams' cases (team) or only the assessments allocated to them (caseload). */
  API_SOCIAL_WORKER_SCOPE: z.enum(['team', 'caseload']).default('team'),
  /** How far back a person may date an event or a decision; older ones come from the case system. */
  API_BACKDATE_WINDOW_HOURS: z.coerce.number().int().min(1).max(24 * 14).default(24),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The pages for managers and operations staff (api/pages/): on unless switched off. */
  PAGES: z.enum(['on', 'off']).default('on'),
  /** Keys signing the pages' session cookie, comma-separated (the first signs, all verify); each at least 32 characters. */
  PAGES_SESSION_SECRET: z
    .string()
    .refine((value) => value.split(',').every((key) => key.trim().length >= 32), 'every key of PAGES_SESSION_SECRET needs at least 32 characters')
    .optional(),
  /** Sign-in through the council's identity provider (OpenID Connect): all four, or none. */
  OIDC_ISSUER_URL: z.url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** The pages' public address, e.g. https://assessments.council.example (the OIDC callback is under it). */
  PAGES_BASE_URL: z.url().optional(),
  /** Claims read from the ID token: an opaque staff id, the roles, the team codes, every team. */
  OIDC_STAFF_ID_CLAIM: z.string().min(1).default('sub'),
  OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
  OIDC_TEAMS_CLAIM: z.string().min(1).default('teams'),
  OIDC_ALL_TEAMS_CLAIM: z.string().min(1).default('all_teams'),
  NODE_ENV: z.string().optional(),
});

export interface ApiConfig {
  auth: AuthOptions;
  /** Where the local secret lives when it is the embedded default. */
  localSecretFile?: string;
  auditLogFile: string;
  rateLimit: { windowMs: number; limit: number };
  readRateLimit: { windowMs: number; limit: number };
  addressRateLimit: { windowMs: number; limit: number };
  trustProxy: number | false;
  socialWorkerScope: 'team' | 'caseload';
  backdateWindowHours: number;
  logLevel: string;
  /** The pages' settings; undefined when they are off (PAGES=off, or production without OpenID Connect). */
  pages?: PagesOptions;
  /** Why the pages are off, for the start-up log. */
  pagesOff?: string;
}

export function localSecretFile(dataDir: string): string {
  return join(dataDir, 'api-jwt-secret');
}

/** The local secret, created (mode 0600) on first use; an existing one is checked like the payload keys. */
export function ensureLocalSecret(file: string): string {
  if (existsSync(file)) {
    // Whoever can read this file can sign tokens for any role.
    const mode = statSync(file).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new Error(`${file} is readable by others (mode ${mode.toString(8)}): run chmod 600 on it (it signs the API's local tokens)`);
    }
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length < 32) throw new Error(`${file} holds ${existing.length} characters: a local token secret needs at least 32 (delete the file to have one generated)`);
    return existing;
  }
  mkdirSync(resolve(file, '..'), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  // An empty variable (compose's `${VAR:-}`) means unset.
  const parsed = apiConfigSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const c = parsed.data;
  let auth: AuthOptions;
  let secretFile: string | undefined;
  const production = c.NODE_ENV === 'production';
  if (production && (!c.API_JWT_ISSUER || !c.API_JWT_AUDIENCE)) {
    // Whatever the key type: a token minted for another service must not open this one.
    throw new Error('invalid configuration: NODE_ENV=production needs API_JWT_ISSUER and API_JWT_AUDIENCE');
  }
  const maxTokenAge = c.API_JWT_MAX_AGE;
  if (c.API_JWKS_URL) {
    if (!c.API_JWT_ISSUER || !c.API_JWT_AUDIENCE) throw new Error('invalid configuration: API_JWKS_URL needs API_JWT_ISSUER and API_JWT_AUDIENCE');
    auth = { mode: 'jwks', jwksUrl: c.API_JWKS_URL, issuer: c.API_JWT_ISSUER, audience: c.API_JWT_AUDIENCE, maxTokenAge };
  } else if (c.API_JWT_SECRET) {
    auth = { mode: 'secret', secret: c.API_JWT_SECRET, maxTokenAge, ...(c.API_JWT_ISSUER ? { issuer: c.API_JWT_ISSUER } : {}), ...(c.API_JWT_AUDIENCE ? { audience: c.API_JWT_AUDIENCE } : {}) };
  } else if (production) {
    // As with the payload keys: production never falls back to a secret made up on the spot.
    throw new Error('invalid configuration: NODE_ENV=production needs API_JWKS_URL (with API_JWT_ISSUER and API_JWT_AUDIENCE) or API_JWT_SECRET');
  } else {
    secretFile = localSecretFile(c.DATA_DIR);
    auth = { mode: 'secret', secret: ensureLocalSecret(secretFile), maxTokenAge };
  }
  const pages = pagesConfig(c, production);
  return {
    auth,
    ...pages,
    ...(secretFile ? { localSecretFile: secretFile } : {}),
    auditLogFile: c.AUDIT_LOG_FILE ?? join(c.DATA_DIR, 'audit.log'),
    rateLimit: { windowMs: c.API_RATE_LIMIT_WINDOW_MS, limit: c.API_RATE_LIMIT_MAX },
    readRateLimit: { windowMs: c.API_RATE_LIMIT_WINDOW_MS, limit: c.API_READ_RATE_LIMIT_MAX },
    addressRateLimit: { windowMs: c.API_RATE_LIMIT_WINDOW_MS, limit: c.API_ADDRESS_RATE_LIMIT_MAX },
    trustProxy: c.API_TRUST_PROXY === 0 ? false : c.API_TRUST_PROXY,
    socialWorkerScope: c.API_SOCIAL_WORKER_SCOPE,
    backdateWindowHours: c.API_BACKDATE_WINDOW_HOURS,
    logLevel: c.LOG_LEVEL,
  };
}

export function pagesSecretFile(dataDir: string): string {
  return join(dataDir, 'pages-session-secret');
}

/**
 * The pages' sign-in and session. Production signs people in through OpenID Connect only:
 * the local sign-in page is refused there, so production without the OIDC settings runs
 * the API without pages (and says why). The embedded default uses OIDC when configured,
 * else the local sign-in, with a session key generated once under DATA_DIR.
 */
function pagesConfig(c: z.infer<typeof apiConfigSchema>, production: boolean): { pages?: PagesOptions; pagesOff?: string } {
  if (c.PAGES === 'off') return { pagesOff: 'PAGES=off' };
  const oidcValues = [c.OIDC_ISSUER_URL, c.OIDC_CLIENT_ID, c.OIDC_CLIENT_SECRET, c.PAGES_BASE_URL];
  const oidc = oidcValues.every((value) => value !== undefined);
  if (!oidc && oidcValues.some((value) => value !== undefined)) {
    throw new Error('invalid configuration: OpenID Connect sign-in needs all of OIDC_ISSUER_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and PAGES_BASE_URL');
  }
  if (production && !oidc) return { pagesOff: 'production signs people in through OpenID Connect: set OIDC_ISSUER_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and PAGES_BASE_URL (the local sign-in page is refused in production)' };
  if (production && !c.PAGES_SESSION_SECRET) throw new Error('invalid configuration: NODE_ENV=production with the pages needs PAGES_SESSION_SECRET');
  const sessionKeys = c.PAGES_SESSION_SECRET
    ? c.PAGES_SESSION_SECRET.split(',').map((key) => key.trim())
    : [ensureLocalSecret(pagesSecretFile(c.DATA_DIR))];
  const secureCookies = production || (c.PAGES_BASE_URL?.startsWith('https:') ?? false);
  return {
    pages: {
      sessionKeys,
      secureCookies,
      signIn: oidc
        ? {
            mode: 'oidc',
            issuerBaseURL: c.OIDC_ISSUER_URL as string,
            baseURL: c.PAGES_BASE_URL as string,
            clientID: c.OIDC_CLIENT_ID as string,
            clientSecret: c.OIDC_CLIENT_SECRET as string,
            claims: { staffId: c.OIDC_STAFF_ID_CLAIM, roles: c.OIDC_ROLES_CLAIM, teams: c.OIDC_TEAMS_CLAIM, allTeams: c.OIDC_ALL_TEAMS_CLAIM },
          }
        : { mode: 'local' },
    },
  };
}
