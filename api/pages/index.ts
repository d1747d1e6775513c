import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { audited } from '../audit';
import { requireRole, type Principal, type Role } from '../auth';
import type { RouteContext } from '../context';
import { HttpError } from '../errors';
import { requireCaseInScope } from '../scope';
import { caseRoutes } from './case';
import { dashboardRoutes } from './dashboard';
import { inboxRoutes } from './inbox';
import { promptRoutes } from './prompt';
import { createViews, GOVUK_FRONTEND_DIST, MOJ_FRONTEND_ROOT, renderPage } from './render';
import { csrf, currentPrincipal, openIdConnectMiddleware, sessionMiddleware, signedIn, startPage, type PagesOptions } from './session';
import { signInRoutes } from './sign-in';

export type { PagesOptions } from './session';

/**
 * The pages for managers and operations staff, served by the API's own Express app:
 * sign-in, the manager inbox, decision forms, case pages and the timeliness dashboard.
 * Server-rendered (GOV.UK Frontend and MoJ Frontend with Nunjucks), working without
 * JavaScript. Every page goes through the API's own chain: the audit record, the role
 * check (api/auth.ts requireRole) and the case scope (api/scope.ts), with the principal
 * from the session instead of a bearer token.
 */
export interface PagesContext {
  ctx: RouteContext;
  options: PagesOptions;
  views: ReturnType<typeof createViews>;
  /** The chain in front of a page: audit, signed in, role, rate limit, and the case's scope when it names one. */
  page(action: string, allowed: Role[], workflowIdOf?: (req: Request) => string | undefined): RequestHandler[];
  /** Parses forms (urlencoded, nested names) and checks their CSRF token. */
  form: RequestHandler[];
  render(res: Response, view: string, context?: Record<string, unknown>, status?: number): void;
}

const PAGE_PATHS = /^\/(?:$|sign-in|sign-out|inbox|prompts\/|cases\/|reports\/timeliness|assets\/)/;

/** Whether a request is for the pages (the API's own paths never are). */
export const isPagePath = (path: string): boolean => PAGE_PATHS.test(path) && !path.startsWith('/v1/');

export function pageRoutes(ctx: RouteContext, options: PagesOptions): RequestHandler {
  if (options.signIn.mode === 'local' && process.env.NODE_ENV === 'production') {
    throw new Error('the local sign-in page is for the embedded default only: production signs people in through OpenID Connect (OIDC_* settings)');
  }
  const views = createViews();
  const router = Router();

  // The app's own assets only: GOV.UK Frontend and MoJ Frontend from node_modules, and the service's few files.
  const assets = { fallthrough: true, index: false, maxAge: '1h' } as const;
  router.use('/assets/govuk', express.static(join(GOVUK_FRONTEND_DIST, 'govuk'), assets));
  router.use('/assets/moj', express.static(join(MOJ_FRONTEND_ROOT, 'moj'), assets));
  router.use('/assets/app', express.static(join(__dirname, 'assets'), assets));
  router.use('/assets', express.static(join(GOVUK_FRONTEND_DIST, 'govuk', 'assets'), assets));
  router.use('/assets', express.static(join(MOJ_FRONTEND_ROOT, 'moj', 'assets'), assets));

  router.use((_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString('base64');
    res.locals.signInMode = options.signIn.mode;
    res.set('cache-control', 'no-store');
    next();
  });
  router.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          // One inline script, GOV.UK's template marking the body as JavaScript-enabled, carries the nonce.
          scriptSrc: ["'self'", (_req, res) => `'nonce-${(res as Response).locals.cspNonce as string}'`],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'", ...(options.signIn.mode === 'oidc' ? [new URL(options.signIn.issuerBaseURL).origin] : [])],
          frameAncestors: ["'none'"],
          baseUri: ["'self'"],
          objectSrc: ["'none'"],
          ...(options.secureCookies ? { upgradeInsecureRequests: [] } : {}),
        },
      },
    }),
  );
  router.use(sessionMiddleware(options));
  if (options.signIn.mode === 'oidc') router.use(openIdConnectMiddleware(options.signIn, options));
  router.use((req, res, next) => {
    // Every page's forms carry the session's token (one per session, renewed at sign-in).
    res.locals.csrfToken = csrf.generateToken(req);
    next();
  });

  const pages: PagesContext = {
    ctx,
    options,
    views,
    page: (action, allowed, workflowIdOf) => [
      audited(ctx.audit, action, workflowIdOf),
      signedIn(options.signIn),
      requireRole(...allowed),
      (req, res, next) => (req.method === 'GET' ? ctx.readLimit(req, res, next) : ctx.writeLimit(req, res, next)),
      ...(workflowIdOf ? [requireCaseInScope(ctx.client, ctx.scope, workflowIdOf)] : []),
    ],
    form: [express.urlencoded({ extended: true, limit: '100kb', parameterLimit: 1000 }), csrf.csrfSynchronisedProtection],
    render: (res, view, context = {}, status = 200) => renderPage(views, res, view, context, status),
  };

  router.get('/', (req, res, next) => {
    let principal: Principal | undefined;
    try {
      principal = currentPrincipal(req, options.signIn);
    } catch (error) {
      return next(error);
    }
    if (!principal) return res.redirect(303, '/sign-in');
    res.redirect(303, startPage(principal));
  });
  router.use(signInRoutes(pages));
  router.use(inboxRoutes(pages));
  router.use(promptRoutes(pages));
  router.use(caseRoutes(pages));
  router.use(dashboardRoutes(pages));
  router.use((_req, res) => pages.render(res, 'error.njk', { title: 'Page not found', lines: ['If you typed the web address, check it is correct.'] }, 404));
  router.use(pageErrors(pages));
  return (req, res, next) => (isPagePath(req.path) ? router(req, res, next) : next());
}

/** Errors as pages: the same statuses as the API, said for a person. Never a request's content. */
function pageErrors(pages: PagesContext) {
  return (error: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    const code = (error as { code?: string }).code;
    if (code === 'csrf-refused' || code === 'EBADCSRFTOKEN') {
      return pages.render(res, 'error.njk', { title: 'This form could not be accepted', lines: ['It was not sent from this service, or your session has changed since you opened it. Nothing was recorded.', 'Go back, reload the page and try again.'] }, 403);
    }
    if (error instanceof HttpError) {
      if (error.status === 403) {
        return pages.render(res, 'error.njk', { title: 'You cannot use this page', lines: [error.code === 'forbidden' ? 'Your role or your teams do not give you access to it.' : error.message] }, 403);
      }
      if (error.status === 404) return pages.render(res, 'error.njk', { title: 'Page not found', lines: ['There is no such case or prompt, or it is not one of your teams\u2019 cases.'] }, 404);
      if (error.status === 429) return pages.render(res, 'error.njk', { title: 'Too many requests', lines: ['Wait a minute and try again.'] }, 429);
      if (error.status < 500) return pages.render(res, 'error.njk', { title: 'There is a problem with the request', lines: [error.message] }, error.status);
    }
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') return pages.render(res, 'error.njk', { title: 'The form is too large', lines: ['Shorten what you entered and try again.'] }, 413);
    pages.ctx.logger.error({ requestId: res.locals.requestId, err: { name: (error as Error)?.name, message: (error as Error)?.message } }, 'page error');
    pages.render(res, 'error.njk', { title: 'Sorry, there is a problem with the service', lines: ['Try again later. Nothing you entered has been recorded unless a page said so.'] }, 500);
  };
}
