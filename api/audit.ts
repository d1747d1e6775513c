import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import pino, { type Logger } from 'pino';
import type { Principal } from './auth';

/**
 * The audit trail: one structured record per API call that reads or changes a referral,
 * an assessment or a prompt, on its own stream (AUDIT_LOG_FILE), apart from the
 * application log. A record says who, in which role(s), did what, to which workflow(s),
 * when and with what result; never what the request or the answer contained.
 */
export interface AuditRecord {
  who: string | null;
  roles: string[];
  action: string;
  workflowId?: string;
  workflowIds?: string[];
  at: string;
  status: number;
  requestId: string;
}

export type AuditLog = Logger;

export function createAuditLog(file: string): AuditLog {
  mkdirSync(dirname(file), { recursive: true });
  // Synchronous writes: a record is on disk when the answer goes out.
  return pino({ base: { stream: 'audit' }, timestamp: false, messageKey: 'event' }, pino.destination({ dest: file, sync: true, mkdir: true }));
}

/** Sets what the audit record names (called by a route once it knows the workflow). */
export function auditTarget(res: Response, target: { workflowId?: string; workflowIds?: string[] }): void {
  res.locals.audit = { ...(res.locals.audit as object | undefined), ...target };
}

/** Writes exactly one audit record when the answer has gone out (or the connection closed). */
export function audited(log: AuditLog, action: string, workflowIdOf?: (req: Request) => string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      const principal = res.locals.principal as Principal | undefined;
      const target = (res.locals.audit ?? {}) as { workflowId?: string; workflowIds?: string[] };
      const workflowId = target.workflowId ?? safely(() => workflowIdOf?.(req));
      const record: AuditRecord = {
        who: principal?.sub ?? null,
        roles: principal?.roles ?? [],
        action,
        ...(workflowId ? { workflowId } : {}),
        ...(target.workflowIds ? { workflowIds: target.workflowIds } : {}),
        at: new Date().toISOString(),
        status: res.headersSent || res.writableFinished ? res.statusCode : 499,
        requestId: String(res.locals.requestId ?? ''),
      };
      log.info(record, 'api-call');
    };
    res.once('finish', write);
    res.once('close', write);
    next();
  };
}

function safely<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}
