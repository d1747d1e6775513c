import { Router } from 'express';
import { z } from 'zod';
import { instantSchema, staffIdSchema } from '../../domain/ids';
import { promptKinds } from '../../domain/prompts';
import { auditTarget } from '../audit';
import { principalOf } from '../auth';
import { guard, type RouteContext } from '../context';
import { submitDecision } from '../decisions';
import { parseOr400 } from '../errors';
import { promptIdParam, safeWorkflowIdOfPrompt } from '../ids';
import { DEFAULT_PROMPT_PAGE_SIZE, listOpenPrompts, MAX_PROMPT_PAGE_SIZE } from '../prompt-list';

const code = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "may hold only letters, digits, '-' and '_'");

export const promptListQuerySchema = z
  .object({
    team: code.optional(),
    managerId: code.optional(),
    kind: z.enum(promptKinds as [string, ...string[]]).optional(),
    pageSize: z.coerce.number().int().min(1).max(MAX_PROMPT_PAGE_SIZE).optional().describe(`prompts per page (default ${DEFAULT_PROMPT_PAGE_SIZE})`),
    nextPageToken: z.string().min(1).max(2000).optional().describe("the previous page's nextPageToken, as it came"),
  })
  .strict();

/** The request body of a decision: the prompt id comes from the path, decidedBy and decidedAt default to the caller and now. */
export const decisionRequestSchema = z
  .object({
    decision: z.string().min(1).max(60),
    rationale: z.string().trim().min(1, 'every decision needs a rationale').max(4000),
    decidedBy: staffIdSchema.optional(),
    decidedAt: instantSchema.optional(),
  })
  .passthrough();

/**
 * The Idempotency-Key header of a decision: any opaque text the caller chooses (a UUID is
 * usual), one per decision. Repeated with the same body it answers as the first time did.
 */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7E]+$/, 'may hold only visible ASCII characters (no spaces)')
  .describe(
    'makes the decision retry-safe: a repeat with the same key and the same body answers 200 with the decision recorded the first time (duplicate: true) and changes nothing; the same key with a different body (or from another caller) is refused with 422 idempotency-key-reused. The key is kept with the answer in the case itself, so a repeat is recognised whichever API instance it reaches and after restarts. Without it, a repeat of an applied decision answers 409 prompt-closed.',
  );

export const decisionHeadersSchema = z.object({ 'Idempotency-Key': idempotencyKeySchema.optional() });

/** Re-exported for callers of this module from before the list moved to api/prompt-list.ts. */
export { sortPrompts, type OpenPrompt } from '../prompt-list';

export function promptRoutes(ctx: RouteContext): Router {
  const router = Router();

  router.get('/v1/prompts', ...guard(ctx, 'prompt.list', ['manager']), async (req, res) => {
    const params = parseOr400(promptListQuerySchema, req.query);
    const page = await listOpenPrompts(ctx, principalOf(res), params);
    auditTarget(res, { workflowIds: [...new Set(page.prompts.map((prompt) => prompt.workflowId))] });
    res.json(page);
  });

  router.post(
    '/v1/prompts/:promptId/decision',
    ...guard(ctx, 'prompt.decide', ['manager'], (req) => safeWorkflowIdOfPrompt(req.params.promptId)),
    ctx.writeLimit,
    async (req, res) => {
      const promptId = promptIdParam(req.params.promptId);
      const headers = parseOr400(decisionHeadersSchema, { 'Idempotency-Key': req.get('idempotency-key') });
      const body = parseOr400(decisionRequestSchema, req.body);
      const idempotencyKey = headers['Idempotency-Key'];
      res.status(200).json(await submitDecision(ctx, principalOf(res), promptId, body, idempotencyKey === undefined ? {} : { idempotencyKey }));
    },
  );

  return router;
}

