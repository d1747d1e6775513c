import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { routeLabel } from './request-metrics';

/** The semantic conventions' HTTP methods; any other is `_OTHER`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);

/**
 * A server span per request (mounted only when tracing is on, common/tracing.ts), named
 * `<METHOD> <route pattern>` (`POST /v1/prompts/:promptId/decision`), never the URL: a URL
 * carries case and prompt ids. The route is the one request-metrics.ts labels with, read
 * when the response ends; a request no route answered is named by its method alone. Its
 * attributes are the method, the route pattern and the status: no URL, query, header,
 * body, address or caller.
 *
 * The span is the active context of everything the request does, the Temporal client's
 * calls included (their spans are its children and travel on to the workflow). A caller's
 * `traceparent` (W3C) makes the request part of the caller's trace. The request and
 * response emitters are bound to the span's context: the body parser's `data` and `end`
 * handlers run in the socket's context otherwise, and what they call would lose the span.
 */
export function requestTracing(): RequestHandler {
  const tracer = trace.getTracer('assessment-api');
  return (req, res, next) => {
    const method = METHODS.has(req.method) ? req.method : '_OTHER';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
    const active = trace.setSpan(parent, span);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = routeLabel(req);
      if (route !== 'unmatched') {
        span.updateName(`${method} ${route}`);
        span.setAttribute('http.route', route);
      }
      // A client that went away before the response was sent has no status.
      if (res.writableFinished || res.headersSent) {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.bind(active, req);
    context.bind(active, res);
    context.with(active, next);
  };
}
