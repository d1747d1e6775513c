import type { Request, RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { audited, type AuditLog } from './audit';
import { authenticate, requireRole, type Role, type TokenVerifier } from './auth';

/** What every route module gets from createApp. */
export interface RouteContext {
  client: Client;
  taskQueue: string;
  logger: Logger;
  audit: AuditLog;
  verify: TokenVerifier;
  /** The rate limiter of write routes. */
  writeLimit: RequestHandler;
  now: () => Date;
}

/**
 * The chain in front of a data route: the audit record (written for every outcome,
 * including 401 and 403), authentication, then the role check.
 */
export function guard(ctx: RouteContext, action: string, allowed: Role[], workflowIdOf?: (req: Request) => string | undefined): RequestHandler[] {
  return [audited(ctx.audit, action, workflowIdOf), authenticate(ctx.verify), requireRole(...allowed)];
}

export const allRoles: Role[] = ['system', 'social_worker', 'manager', 'operations'];
