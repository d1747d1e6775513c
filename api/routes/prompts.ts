import { Router } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { instantSchema, staffIdSchema } from '../../domain/ids';
import { promptKinds, type Prompt } from '../../domain/prompts';
import { decideUpdate, openPromptsQuery } from '../../workflows/messages';
import { auditTarget } from '../audit';
import { refuseBeforeReferral, stampDecision } from '../actors';
import { principalOf } from '../auth';
import { scopeClause } from '../scope';
import { guard, type RouteContext } from '../context';
import { HttpError, parseOr400, refuseFutureTimes } from '../errors';
import { promptIdParam, safeWorkflowIdOfPrompt } from '../ids';
import { listAll, literal } from '../visibility';
import { receivedAtOf, translateWorkflowError } from './events';
import { workflowIdOfPrompt } from '../../domain/ids';

const code = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "may hold only letters, digits, '-' and '_'");

export const promptListQuerySchema = z
  .object({ team: code.optional(), managerId: code.optional(), kind: z.enum(promptKinds as [string, ...string[]]).optional() })
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

export interface OpenPrompt extends Prompt {
  workflowId: string;
  team?: string;
}

/** Open prompts oldest-due first: those without a due time after those with one, then by when they were raised. */
export function sortPrompts<P extends Pick<Prompt, 'dueBy' | 'raisedAt'>>(prompts: P[]): P[] {
  const due = (prompt: P) => (prompt.dueBy ? Date.parse(prompt.dueBy) : Number.POSITIVE_INFINITY);
  return [...prompts].sort((a, b) => due(a) - due(b) || Date.parse(a.raisedAt) - Date.parse(b.raisedAt));
}

async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The most workflows one prompt list reads (each needs a query). */
export const PROMPT_LIST_WORKFLOWS = 1000;

/** Whether a failed query is explained by the workflow having closed since the listing (nothing open there any more). */
async function closedSince(ctx: RouteContext, workflowId: string, error: unknown): Promise<boolean> {
  if (error instanceof WorkflowNotFoundError) return true;
  try {
    return (await ctx.client.workflow.getHandle(workflowId).describe()).status.name !== 'RUNNING';
  } catch {
    return false;
  }
}

export function promptRoutes(ctx: RouteContext): Router {
  const router = Router();

  router.get('/v1/prompts', ...guard(ctx, 'prompt.list', ['manager']), async (req, res) => {
    const params = parseOr400(promptListQuerySchema, req.query);
    const inScope = scopeClause(principalOf(res), params.team);
    const clauses = [`ExecutionStatus = 'Running'`, `OpenPromptKinds IN (${(params.kind ? [params.kind] : promptKinds).map(literal).join(', ')})`];
    if (inScope) clauses.push(inScope);
    if (params.managerId) clauses.push(`ManagerId = ${literal(params.managerId)}`);
    const { workflows, truncated } = await listAll(ctx.client, clauses.join(' AND '), PROMPT_LIST_WORKFLOWS);
    // Never a silent partial answer: a workflow whose prompts could not be read is named.
    const unreadable: string[] = [];
    const perWorkflow = await mapLimited(workflows, 16, async (workflow): Promise<OpenPrompt[]> => {
      try {
        const prompts = await ctx.client.workflow.getHandle(workflow.workflowId).query(openPromptsQuery);
        const workflowTeam = typeof workflow.attributes.Team === 'string' ? workflow.attributes.Team : undefined;
        return prompts.map((prompt) => ({ ...prompt, workflowId: workflow.workflowId, ...(workflowTeam ? { team: workflowTeam } : {}) }));
      } catch (error) {
        if (!(await closedSince(ctx, workflow.workflowId, error))) unreadable.push(workflow.workflowId);
        return [];
      }
    });
    const prompts = sortPrompts(perWorkflow.flat().filter((prompt) => !params.kind || prompt.kind === params.kind));
    auditTarget(res, { workflowIds: [...new Set(prompts.map((prompt) => prompt.workflowId))] });
    res.json({
      prompts,
      complete: !truncated && unreadable.length === 0,
      ...(truncated ? { truncated: true, message: `more than ${PROMPT_LIST_WORKFLOWS} workflows have open prompts: narrow by team, managerId or kind` } : {}),
      ...(unreadable.length > 0 ? { unreadableWorkflowIds: unreadable } : {}),
    });
  });

  router.post(
    '/v1/prompts/:promptId/decision',
    ...guard(ctx, 'prompt.decide', ['manager'], (req) => safeWorkflowIdOfPrompt(req.params.promptId)),
    ctx.writeLimit,
    async (req, res) => {
      const promptId = promptIdParam(req.params.promptId);
      const workflowId = workflowIdOfPrompt(promptId) as string;
      const body = parseOr400(decisionRequestSchema, req.body);
      // A decision dated ahead of now would settle a deadline that has not been met yet.
      refuseFutureTimes({ decidedAt: body.decidedAt }, ctx.now());
      const decision = { ...stampDecision(principalOf(res), body, ctx.now(), ctx.backdateWindowMs), promptId };
      refuseBeforeReferral({ decidedAt: decision.decidedAt }, await receivedAtOf(ctx.client.workflow.getHandle(workflowId)));
      try {
        const result = await ctx.client.workflow.getHandle(workflowId).executeUpdate(decideUpdate, { args: [decision] });
        res.status(200).json(result);
      } catch (error) {
        throw decisionError(await translateWorkflowError(ctx.client, error, workflowId));
      }
    },
  );

  return router;
}

/** The update validator's rejection codes: unknown or closed prompt → 409; answer not allowed or invalid → 422. */
function decisionError(error: unknown): unknown {
  if (error instanceof HttpError && error.code === 'workflow-closed') return new HttpError(409, 'prompt-closed', `${error.message}: its prompts are closed`);
  if (error instanceof HttpError && (error.code === 'unknown-prompt' || error.code === 'prompt-closed')) {
    return new HttpError(409, error.code, error.message, error.extra);
  }
  return error;
}
