import { PromptListingCache, type PromptListingCacheOptions } from './prompt-listing-cache';
import express, { type RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { createAuditLog, type AuditLog } from './audit';
import { CENSUS_BODY_LIMIT } from './census';
import { DEFAULT_BACKDATE_WINDOW_HOURS } from './actors';
import { createVerifier, type AuthOptions, type Principal, type TokenVerifier } from './auth';
import type { ApiConfig } from './config';
import { guard, type RouteContext } from './context';
import { errorHandler, notFound } from './errors';
import { audited } from './audit';
import { codecCors, EMBEDDED_WEB_UI_PRINCIPAL, isEmbeddedWebUiRequest, type CodecServer } from './codec-server';
import { createLogger, requestLogging } from './logging';
import { requestMetrics } from './request-metrics';
import { requestTracing } from './request-tracing';
import { openApiDocument } from './openapi';
import { pageRoutes, type PagesOptions } from './pages';
import { assessmentRoutes } from './routes/assessments';
import { publicRoutes } from './routes/health';
import { promptRoutes } from './routes/prompts';
import { referralRoutes } from './routes/referrals';
import { reportRoutes } from './routes/reports';
import { requireAllTeams, type ScopeSettings } from './scope';

export interface ApiDeps {
  client: Client;
  taskQueue: string;
  /** How bearer tokens are verified (or a verifier built elsewhere). */
  auth: AuthOptions | TokenVerifier;
  /** The audit stream (see api/audit.ts); a file path or a logger. */
  audit: string | AuditLog;
  logger?: Logger;
  /** Rate limit of write routes, per caller (token sub). */
  rateLimit?: { windowMs: number; limit: number };
  /** Rate limit of read routes, per caller. */
  readRateLimit?: { windowMs: number; limit: number };
  /** Rate limit per client address, before authentication (with `trustProxy` saying which address is the client's). */
  addressRateLimit?: { windowMs: number; limit: number };
  /** Express's `trust proxy`: false (no proxy) or how many proxies in front (API_TRUST_PROXY). */
  trustProxy?: number | false;
  /** Social workers' scope: their teams' cases, or their caseload (API_SOCIAL_WORKER_SCOPE). */
  scope?: ScopeSettings;
  /** How far back a person may date an event or decision (API_BACKDATE_WINDOW_HOURS). */
  backdateWindowHours?: number;
  /** The pages for managers and operations staff (api/pages/): off when absent. */
  pages?: PagesOptions;
  /** The codec server (api/codec-server.ts), mounted at /codec behind the `operations` role. */
  codec?: CodecServer;
  /**
   * A server span per request (api/request-tracing.ts), when tracing is on (common/tracing.ts,
   * started before the app is made); off, the default, no middleware at all.
   */
  tracing?: boolean;
  now?: () => Date;
  /** How long the prompt list's visibility rows are kept (api/prompt-listing-cache.ts); defaults 5 s fresh, 60 s stale. */
  promptListing?: PromptListingCacheOptions;
}

export const BODY_LIMIT = '100kb';

export function createApp(deps: ApiDeps): express.Express {
  const logger = deps.logger ?? createLogger();
  const ctx: RouteContext = {
    client: deps.client,
    taskQueue: deps.taskQueue,
    logger,
    audit: typeof deps.audit === 'string' ? createAuditLog(deps.audit) : deps.audit,
    verify: typeof deps.auth === 'function' ? deps.auth : createVerifier(deps.auth),
    writeLimit: callerLimiter(deps.rateLimit ?? { windowMs: 60_000, limit: 600 }, 'write'),
    readLimit: callerLimiter(deps.readRateLimit ?? { windowMs: 60_000, limit: 1200 }, 'read'),
    scope: deps.scope ?? { socialWorkers: 'team' },
    backdateWindowMs: (deps.backdateWindowHours ?? DEFAULT_BACKDATE_WINDOW_HOURS) * 3_600_000,
    now: deps.now ?? (() => new Date()),
    promptListings: new PromptListingCache(deps.promptListing),
  };

  const app = express();
  app.disable('x-powered-by');
  // Which address is the client's (the per-address limit keys on it): only as many proxies as configured.
  app.set('trust proxy', deps.trustProxy ?? false);
  // First: the request's span is the context of all it does (the Temporal calls among it).
  if (deps.tracing) app.use(requestTracing());
  app.use(requestMetrics());
  app.use(requestLogging(logger));
  app.use(helmet());
  app.use(addressLimiter(deps.addressRateLimit ?? { windowMs: 60_000, limit: 3000 }));
  if (deps.codec) {
    // The codec server decodes payloads for the Temporal Web UI: operations staff only.
    // Mounted before the JSON parser (it parses its own, larger bodies). CORS first: a
    // browser's preflight (OPTIONS) carries no token, and a 401 without CORS headers reads
    // as a CORS failure in the UI; every real call then passes the role gate.
    // Payloads reach the codec without their case, so it needs the explicit all-teams scope.
    const codecGate = express.Router().use(...guard(ctx, 'codec', ['operations']), requireAllTeams);
    // The embedded default's Web UI holds no token: its loopback calls pass as operations,
    // audited under their own name (never in production: createCodecServer).
    const embeddedWebUi = deps.codec.embeddedWebUi;
    const embeddedGate = express.Router().use(audited(ctx.audit, 'codec'), (_req, res, next) => {
      res.locals.principal = EMBEDDED_WEB_UI_PRINCIPAL;
      next();
    });
    app.use(
      '/codec',
      codecCors(deps.codec.allowedOrigin),
      (req, res, next) => {
        if (req.method === 'OPTIONS') return next();
        if (embeddedWebUi && isEmbeddedWebUiRequest(req, embeddedWebUi)) return embeddedGate(req, res, next);
        codecGate(req, res, next);
      },
      deps.codec.router,
    );
  }
  // The census request carries every child of a year's return: its own, larger body limit.
  app.use('/v1/reports/cin-census', express.json({ limit: CENSUS_BODY_LIMIT }));
  app.use(express.json({ limit: BODY_LIMIT }));

  // The pages answer only their own paths (api/pages/index.ts isPagePath), never /v1.
  if (deps.pages) app.use(pageRoutes(ctx, deps.pages));
  app.use(publicRoutes(ctx));
  app.use(referralRoutes(ctx));
  app.use(assessmentRoutes(ctx));
  app.use(promptRoutes(ctx));
  app.use(reportRoutes(ctx));
  app.use(methodNotAllowed());
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * A path the OpenAPI document lists, asked with a method it does not declare: 405 with the
 * `Allow` header (RFC 9110), before authentication; OPTIONS answers 204 with the same header.
 * The paths and methods come from the document, so the two cannot drift apart.
 */
export function methodNotAllowed(): RequestHandler {
  const routes = Object.entries(openApiDocument().paths ?? {}).map(([path, item]) => {
    const methods = Object.keys(item ?? {})
      .filter((method) => HTTP_METHODS.includes(method))
      .map((method) => method.toUpperCase());
    if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
    const pattern = path
      .split('/')
      .map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    // Express routes match case-insensitively and with a trailing slash; so does this.
    return { regex: new RegExp(`^${pattern}/?$`, 'i'), allow: methods.join(', ') };
  });
  return (req, res, next) => {
    const route = routes.find((candidate) => candidate.regex.test(req.path));
    if (!route) return next();
    res.set('allow', route.allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    res.status(405).json({ error: 'method-not-allowed', message: `${req.method} is not allowed on this path; allowed: ${route.allow}` });
  };
}

function callerLimiter(options: { windowMs: number; limit: number }, kind: 'read' | 'write'): RequestHandler {
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req, res) => {
      const principal = res.locals.principal as Principal | undefined;
      return principal ? `sub:${principal.sub}` : ipKeyGenerator(req.ip ?? 'unknown');
    },
    handler: (_req, res) => {
      res.status(429).json({ error: 'rate-limited', message: `too many ${kind} requests; retry later` });
    },
  });
}

/** Before authentication: one address cannot flood the token checks and the audit log. */
function addressLimiter(options: { windowMs: number; limit: number }): RequestHandler {
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
    skip: (req) => req.path === '/healthz',
    handler: (_req, res) => {
      res.status(429).json({ error: 'rate-limited', message: 'too many requests from this address; retry later' });
    },
  });
}

/** The dependencies main.ts and start.ts build from the configuration. */
export function appDepsFromConfig(client: Client, taskQueue: string, config: ApiConfig, codec?: ApiDeps['codec']): ApiDeps {
  return {
    codec,
    client,
    taskQueue,
    auth: config.auth,
    audit: config.auditLogFile,
    logger: createLogger(config.logLevel),
    rateLimit: config.rateLimit,
    readRateLimit: config.readRateLimit,
    addressRateLimit: config.addressRateLimit,
    trustProxy: config.trustProxy,
    scope: { socialWorkers: config.socialWorkerScope },
    backdateWindowHours: config.backdateWindowHours,
    ...(config.pages ? { pages: config.pages } : {}),
  };
}
