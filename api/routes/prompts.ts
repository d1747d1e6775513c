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
      const body = parseOr400(decisionRequestSchema, req.body);
      res.status(200).json(await submitDecision(ctx, principalOf(res), promptId, body));
    },
  );

  return router;
}

