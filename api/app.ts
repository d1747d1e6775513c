import express, { type NextFunction, type Request, type Response } from 'express';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { domainEventSchema } from '../domain/events';
import { referralWorkflowId } from '../domain/ids';
import { toIssues } from '../domain/prompts';
import { referralInputSchema } from '../domain/referral';
import { eventSignal, stateQuery } from '../workflows/messages';
import { referralWorkflow } from '../workflows/referral';

export interface ApiDeps {
  client: Client;
  taskQueue: string;
}

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '100kb' }));

  app.get('/healthz', async (_req, res) => {
    try {
      await deps.client.workflowService.getSystemInfo({});
      res.json({ status: 'ok', temporal: 'reachable' });
    } catch {
      res.status(503).json({ status: 'degraded', temporal: 'unreachable' });
    }
  });

  app.post('/v1/referrals', async (req, res) => {
    const parsed = referralInputSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: 'invalid-request', issues: toIssues(parsed.error) });
    const workflowId = referralWorkflowId(parsed.data.referralId);
    try {
      await deps.client.workflow.start(referralWorkflow, { workflowId, taskQueue: deps.taskQueue, args: [parsed.data] });
      res.status(201).json({ referralId: parsed.data.referralId, workflowId });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      res.status(200).json({ referralId: parsed.data.referralId, workflowId });
    }
  });

  app.post('/v1/referrals/:referralId/events', async (req, res) => {
    const parsed = domainEventSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: 'invalid-request', issues: toIssues(parsed.error) });
    await deps.client.workflow.getHandle(referralWorkflowId(req.params.referralId)).signal(eventSignal, parsed.data);
    res.status(202).json({ accepted: true });
  });

  app.get('/v1/referrals/:referralId', async (req, res) => {
    res.json(await deps.client.workflow.getHandle(referralWorkflowId(req.params.referralId)).query(stateQuery));
  });

  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error instanceof WorkflowNotFoundError) return void res.status(404).json({ error: 'not-found' });
    res.status(500).json({ error: 'internal-error' });
  });
  return app;
}
