import type { PromptListingCache } from './prompt-listing-cache';
import type { Request, RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { audited, type AuditLog } from './audit';
import { authenticate, requireRole, type Role, type TokenVerifier } from './auth';
import { requireCaseInScope, type ScopeSettings } from './scope';

/** What every route module gets from createApp. */
export interface RouteContext {
  client: Client;
  taskQueue: string;
  logger: Logger;
  audit: AuditLog;
  verify: TokenVerifier;
  /** The rate limiter of write routes, per caller. */
  writeLimit: RequestHandler;
  /** The rate limiter of read routes, per caller. */
  readLimit: RequestHandler;
  scope: ScopeSettings;
  /** How far back a person (not a system) may date what they report or decide. */
  backdateWindowMs: number;
  now: () => Date;
  /** The prompt list's visibility rows, kept a few seconds per query (api/prompt-listing-cache.ts). */
  promptListings: PromptListingCache;
}

/**
 * The chain in front of a data route: the audit record (written for every outcome,
 * including 401, 403 and 404), authentication, the role check, and, for a route about one
 * case, the scope check on that case (api/scope.ts). `caseScoped: false` for a route that
 * names a case that does not exist yet (starting a referral checks the body's team itself).
 */
export function guard(
  ctx: RouteContext,
  action: string,
  allowed: Role[],
  workflowIdOf?: (req: Request) => string | undefined,
  options: { caseScoped?: boolean } = {},
): RequestHandler[] {
  const chain: RequestHandler[] = [
    audited(ctx.audit, action, workflowIdOf),
    authenticate(ctx.verify),
    requireRole(...allowed),
    (req, res, next) => (req.method === 'GET' ? ctx.readLimit(req, res, next) : next()),
  ];
  if (workflowIdOf && options.caseScoped !== false) chain.push(requireCaseInScope(ctx.client, ctx.scope, workflowIdOf));
  return chain;
}

export const allRoles: Role[] = ['system', 'social_worker', 'manager', 'operations'];
