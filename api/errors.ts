import type { NextFunction, Request, Response } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { toIssues } from '../domain/prompts';

export type Issue = { path: string; message: string };

/** An answer other than success, with a stable machine-readable `error` code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const invalidRequest = (error: z.ZodError, message = 'the request is invalid'): HttpError =>
  new HttpError(400, 'invalid-request', message, { issues: toIssues(error) });

/**
 * Parses with a zod schema or throws, listing every invalid field: 400 when the request does
 * not match the schema (as the OpenAPI document states it), 422 when it matches and only a
 * rule the document cannot state refuses it (a zod refinement, e.g. two children with one
 * childRef): a well-formed request is never answered 400.
 */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const status = parsed.error.issues.every((issue) => issue.code === 'custom') ? 422 : 400;
  const error = invalidRequest(parsed.error);
  const issues = prefix
    ? (error.extra.issues as Issue[]).map((issue) => ({ ...issue, path: issue.path === '(body)' ? prefix : `${prefix}.${issue.path}` }))
    : (error.extra.issues as Issue[]);
  return throwError(new HttpError(status, 'invalid-request', error.message, { issues }));
}

function throwError(error: HttpError): never {
  throw error;
}

/** The last handler: turns errors into JSON answers; never echoes a request body. */
export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    if (error instanceof HttpError) {
      if (typeof error.extra.retryAfterSeconds === 'number') res.setHeader('retry-after', String(error.extra.retryAfterSeconds));
      res.status(error.status).json({ error: error.code, message: error.message, ...error.extra });
      return;
    }
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') {
      res.status(413).json({ error: 'payload-too-large', message: 'the request body exceeds the limit' });
      return;
    }
    if (type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid-json', message: 'the request body is not valid JSON', issues: [{ path: '(body)', message: 'not valid JSON' }] });
      return;
    }
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      res.status(415).json({ error: 'unsupported-media-type', message: 'send UTF-8 JSON' });
      return;
    }
    if (error instanceof WorkflowNotFoundError) {
      res.status(404).json({ error: 'not-found', message: 'no such workflow' });
      return;
    }
    // Only the error's name and message: no request content.
    logger.error({ requestId: res.locals.requestId, err: { name: (error as Error)?.name, message: (error as Error)?.message } }, 'unhandled error');
    void req;
    res.status(500).json({ error: 'internal-error', message: 'something went wrong; the request id says which request' });
  };
}

export function notFound(_req: Request, res: Response): void {
  res.status(404).json({ error: 'not-found', message: 'no such route' });
}

/** How far ahead of this server's clock a sender's clock may run. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Times a case system reports must not lie in the future (beyond clock skew): a deadline
 * computed from a referral "received" tomorrow would be a day too late. Every such field
 * is named, as for any other invalid input; the answer is 422, since the request is
 * well-formed (a schema cannot say "before now").
 */
export function refuseFutureTimes(fields: Record<string, string | undefined>, now: Date): void {
  const limit = now.getTime() + CLOCK_SKEW_MS;
  const issues = Object.entries(fields)
    .filter(([, value]) => value !== undefined && Date.parse(value) > limit)
    .map(([path]) => ({ path, message: `lies in the future (this server's time is ${now.toISOString()}; up to 5 minutes of clock skew is allowed)` }));
  if (issues.length > 0) throw new HttpError(422, 'invalid-request', 'the request has times in the future', { issues });
}
