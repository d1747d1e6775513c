import { Router } from 'express';
import { z } from 'zod';
import { promptKinds } from '../../domain/prompts';
import { stateQuery } from '../../workflows/messages';
import { auditTarget } from '../audit';
import { principalOf } from '../auth';
import { assertCaseInScope, scopeClause } from '../scope';
import { allRoles, guard, type RouteContext } from '../context';
import { parseOr400 } from '../errors';
import { decodedHistories, toTimeline } from '../history';
import { assessmentIdParam, safeCaseWorkflowId } from '../ids';
import { listPage, literal } from '../visibility';
import { deliverEvent, translateWorkflowError } from './events';

const code = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "may hold only letters, digits, '-' and '_'");

/** Which workflows a listing covers; the workflow type names are the worker's. */
export const workflowTypes = {
  assessment: 'assessmentWorkflow',
  referral: 'referralWorkflow',
  'strategy-discussion': 'strategyDiscussionWorkflow',
  'section-47-enquiry': 'section47EnquiryWorkflow',
  'child-in-need-plan': 'childInNeedPlanWorkflow',
} as const;

export const assessmentListQuerySchema = z
  .object({
    /** `delivery-failing`: cases whose notifications or case records are failing now (the operations alert). */
    status: z.enum(['open', 'overdue', 'awaiting-decision', 'completed', 'delivery-failing']).optional(),
    team: code.optional(),
    track: z.enum(['S17', 'S47']).optional(),
    type: z.enum(Object.keys(workflowTypes) as [keyof typeof workflowTypes]).default('assessment'),
    pageSize: z.coerce.number().int().min(1).max(200).default(50),
    nextPageToken: z.string().max(4096).regex(/^[A-Za-z0-9_-]*$/).optional(),
  })
  .strict();

export const historyQuerySchema = z.object({ format: z.enum(['timeline', 'raw']).default('timeline') }).strict();

/**
 * A workflow that has continued as new (a long-lived child in need plan, issue 13) has a
 * closed row for each run before its current one: a listing shows the case once.
 */
const NOT_CONTINUED = `ExecutionStatus != 'ContinuedAsNew'`;

/** The visibility query of a listing (pure, so it is unit-tested). */
export function assessmentListQuery(params: z.infer<typeof assessmentListQuerySchema>, now: Date): string {
  const clauses = [`WorkflowType = ${literal(workflowTypes[params.type])}`];
  switch (params.status) {
    case 'open':
      clauses.push(`ExecutionStatus = 'Running'`);
      break;
    case 'overdue':
      // A signed-off assessment stays open for its review window: it is not overdue.
      // With the steps awaited (procedure-checks): past their authority's time, or with no time set (listed, never dropped).
      clauses.push(`ExecutionStatus = 'Running'`, 'CompletedAt IS NULL', `(Overdue = true OR CompletionDueAt < ${literal(now.toISOString())} OR AwaitingSteps IN ('past-due', 'time-not-set'))`);
      break;
    case 'delivery-failing':
      clauses.push(`ExecutionStatus = 'Running'`, 'FailingDeliveries > 0');
      break;
    case 'awaiting-decision':
      clauses.push(`ExecutionStatus = 'Running'`, `OpenPromptKinds IN (${promptKinds.map(literal).join(', ')})`);
      break;
    case 'completed':
      clauses.push('CompletedAt IS NOT NULL', NOT_CONTINUED);
      break;
    default:
      clauses.push(NOT_CONTINUED);
  }
  if (params.team) clauses.push(`Team = ${literal(params.team)}`);
  if (params.track) clauses.push(`AssessmentTrack = ${literal(params.track)}`);
  return clauses.join(' AND ');
}

export function assessmentRoutes(ctx: RouteContext): Router {
  const router = Router();

  router.get('/v1/assessments', ...guard(ctx, 'assessment.list', ['manager', 'operations']), async (req, res) => {
    const params = parseOr400(assessmentListQuerySchema, req.query);
    const inScope = scopeClause(principalOf(res), params.team);
    const query = [assessmentListQuery({ ...params, team: undefined }, ctx.now()), ...(inScope ? [inScope] : [])].join(' AND ');
    const page = await listPage(ctx.client, query, params.pageSize, params.nextPageToken);
    auditTarget(res, { workflowIds: page.workflows.map((workflow) => workflow.workflowId) });
    res.json({
      assessments: page.workflows.map((workflow) => ({
        workflowId: workflow.workflowId,
        workflowType: workflow.workflowType,
        status: workflow.status,
        startTime: workflow.startTime,
        closeTime: workflow.closeTime,
        ...workflow.attributes,
      })),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    });
  });

  router.post(
    '/v1/assessments/:assessmentId/events',
    ...guard(ctx, 'assessment.event', ['system', 'social_worker'], (req) => safeCaseWorkflowId(req.params.assessmentId)),
    ctx.writeLimit,
    async (req, res) => deliverEvent(ctx, assessmentIdParam(req.params.assessmentId), req, res),
  );

  router.get('/v1/assessments/:assessmentId', ...guard(ctx, 'assessment.read', allRoles, (req) => safeCaseWorkflowId(req.params.assessmentId)), async (req, res) => {
    const workflowId = assessmentIdParam(req.params.assessmentId);
    try {
      res.json(await ctx.client.workflow.getHandle(workflowId).query(stateQuery));
    } catch (error) {
      throw await translateWorkflowError(ctx.client, error, workflowId);
    }
  });

  router.get(
    '/v1/assessments/:assessmentId/history',
    ...guard(ctx, 'assessment.history', ['manager', 'operations'], (req) => safeCaseWorkflowId(req.params.assessmentId)),
    async (req, res) => {
      const workflowId = assessmentIdParam(req.params.assessmentId);
      const { format } = parseOr400(historyQuerySchema, req.query);
      let histories;
      try {
        // Each child workflow the history shows is held to the same scope (its own Team attribute).
        const principal = principalOf(res);
        histories = await decodedHistories(ctx.client, workflowId, (childId) =>
          assertCaseInScope(ctx.client, principal, childId, ctx.scope).then(
            () => true,
            () => false,
          ),
        );
      } catch (error) {
        throw await translateWorkflowError(ctx.client, error, workflowId);
      }
      const { events, truncated } = histories;
      auditTarget(res, { workflowIds: [...new Set(events.map((event) => event.workflowId))] });
      const extra = truncated ? { truncated: true, truncatedBecause: truncated.reason } : {};
      if (format === 'raw') res.json({ workflowId, events, ...extra });
      else res.json({ workflowId, timeline: toTimeline(events), ...extra });
    },
  );

  return router;
}
