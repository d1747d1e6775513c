import type { Request, RequestHandler } from 'express';
import { Histogram } from 'prom-client';
import { engineRegistry } from '../common/metrics';

/**
 * How long the API took to answer, by route pattern, method and status. The route is the
 * Express pattern that matched (`/v1/prompts/:promptId/decision`), never the URL: a URL
 * carries case and prompt ids, and a series per id would both swamp Prometheus and put
 * case references in it. A request no route matched (a 404, a 405 answered before the
 * routes, a static asset) is `unmatched`.
 */
const requestDuration = new Histogram({
  name: 'assessments_api_request_duration_seconds',
  help: 'API request duration from arrival to the end of the response, by route pattern, method and status',
  labelNames: ['route', 'method', 'status'] as const,
  // Decisions wait on a workflow update; a visibility list can take seconds: up to 30 s.
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [engineRegistry],
});

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The pattern of the route that answered, with its router's mount path; `unmatched` when none did. */
export function routeLabel(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return 'unmatched';
  return `${req.baseUrl}${path}` || '/';
}

/** First in the chain, so that its clock starts before anything else runs. */
export function requestMetrics(): RequestHandler {
  return (req, res, next) => {
    const end = requestDuration.startTimer();
    // The route is read when the response ends: by then the router has set it. A client
    // that goes away before the response is sent ('close' without 'finish') is `aborted`.
    let counted = false;
    const count = (status: string) => {
      if (counted) return;
      counted = true;
      end({ route: routeLabel(req), method: METHODS.has(req.method) ? req.method : 'other', status });
    };
    res.once('finish', () => count(String(res.statusCode)));
    res.once('close', () => count(res.writableFinished ? String(res.statusCode) : 'aborted'));
    next();
  };
}
