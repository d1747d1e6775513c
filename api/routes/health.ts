import { Router } from 'express';
import type { RouteContext } from '../context';
import { openApiDocument } from '../openapi';

export function publicRoutes(ctx: RouteContext): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    try {
      // A short deadline: a health check must answer, not wait out the client's retries.
      await ctx.client.withDeadline(Date.now() + 3000, () => ctx.client.workflowService.getSystemInfo({}));
      res.json({ status: 'ok', temporal: 'reachable' });
    } catch {
      res.status(503).json({ status: 'degraded', temporal: 'unreachable' });
    }
  });
  let document: unknown;
  router.get('/v1/openapi.json', (_req, res) => {
    document ??= openApiDocument();
    res.json(document);
  });
  return router;
}
