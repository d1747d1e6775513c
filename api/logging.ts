import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import pino, { type Logger } from 'pino';
import type { Principal } from './auth';

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'api' } });
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request id (the caller's `x-request-id` when it is sane, otherwise a new one), echoed
 * back, and one access log line per request: method, route pattern, status, duration and
 * the caller's sub. Never bodies, query strings or headers.
 */
export function requestLogging(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.get('x-request-id');
    const requestId = given && requestIdPattern.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.set('x-request-id', requestId);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const principal = res.locals.principal as Principal | undefined;
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : '(unmatched)';
      logger.info(
        {
          requestId,
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
          sub: principal?.sub,
        },
        'request',
      );
    });
    next();
  };
}
