import { Router } from 'express';
import { z } from 'zod';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { referralWorkflowId } from '../../domain/ids';
import { referralInputSchema } from '../../domain/referral';
import { referralWorkingCalendar } from '../../activities/calendar';
import { stateQuery } from '../../workflows/messages';
import { referralWorkflow } from '../../workflows/referral';
import { LocalAuthorityKey, ManagerIdKey, ReferralIdKey, TeamKey } from '../../workflows/search-attributes';
import { auditTarget } from '../audit';
import { earlierInvolvement } from '../earlier-involvement';
import { principalOf } from '../auth';
import { assertTeamInScope } from '../scope';
import { canonicalJson, sha256Hex } from '../canonical';
import { allRoles, guard, type RouteContext } from '../context';
import { HttpError, parseOr400, refuseFutureTimes } from '../errors';
import { referralIdParam, safeReferralWorkflowId } from '../ids';
import { deliverEvent, translateWorkflowError } from './events';

/** The memo key holding the SHA-256 of the canonical referral body (never the body: memos are stored in the clear). */
export const INPUT_HASH_MEMO = 'inputSha256';

/** `GET /v1/referrals/{id}`: the referral's state; `include=earlierInvolvement` adds the child's earlier assessments, which costs a visibility list and a query per earlier assessment. */
export const referralReadQuerySchema = z.object({ include: z.enum(['earlierInvolvement']).optional() }).strict();

export function referralRoutes(ctx: RouteContext): Router {
  const router = Router();

  /**
   * Idempotent start: the workflow id is derived from the referralId, the server refuses a
   * second workflow with that id (open or closed), and the memo's hash of the first body
   * tells a retry (200, same answer) from a different referral reusing the id (409).
   */
  router.post(
    '/v1/referrals',
    ...guard(ctx, 'referral.start', ['system'], (req) => safeReferralWorkflowId(req.body?.referralId), { caseScoped: false }),
    ctx.writeLimit,
    async (req, res) => {
      const input = parseOr400(referralInputSchema, req.body);
      refuseFutureTimes({ receivedAt: input.receivedAt }, ctx.now());
      assertTeamInScope(principalOf(res), input.team);
      const workflowId = referralWorkflowId(input.referralId);
      auditTarget(res, { workflowId });
      const hash = sha256Hex(canonicalJson(input));
      try {
        await ctx.client.workflow.start(referralWorkflow, {
          workflowId,
          taskQueue: ctx.taskQueue,
          // Passed in, so that the duty decision prompt opens in the workflow's first task.
          args: [{ ...input, workingCalendar: referralWorkingCalendar(input, ctx.now().getTime()) }],
          memo: { [INPUT_HASH_MEMO]: hash },
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          // Opaque codes only, so that listings see them at once (the workflow upserts its own later).
          typedSearchAttributes: [
            { key: ReferralIdKey, value: input.referralId },
            ...(input.team ? [{ key: TeamKey, value: input.team }] : []),
            ...(input.managerId ? [{ key: ManagerIdKey, value: input.managerId }] : []),
            ...(input.localAuthority ? [{ key: LocalAuthorityKey, value: input.localAuthority }] : []),
          ],
        });
        res.status(201).json({ referralId: input.referralId, workflowId });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        const existing = await ctx.client.workflow.getHandle(workflowId).describe();
        if (existing.memo?.[INPUT_HASH_MEMO] !== hash) {
          throw new HttpError(409, 'referral-conflict', `referral ${input.referralId} was already received with a different body`);
        }
        res.status(200).json({ referralId: input.referralId, workflowId });
      }
    },
  );

  router.post(
    '/v1/referrals/:referralId/events',
    ...guard(ctx, 'referral.event', ['system', 'social_worker'], (req) => safeReferralWorkflowId(req.params.referralId)),
    ctx.writeLimit,
    async (req, res) => deliverEvent(ctx, referralWorkflowId(referralIdParam(req.params.referralId)), req, res),
  );

  router.get('/v1/referrals/:referralId', ...guard(ctx, 'referral.read', allRoles, (req) => safeReferralWorkflowId(req.params.referralId)), async (req, res) => {
    const { include } = parseOr400(referralReadQuerySchema, req.query);
    const referralId = referralIdParam(req.params.referralId);
    const workflowId = referralWorkflowId(referralId);
    let state: { childRefs?: string[]; children?: Array<{ childRef: string }> };
    try {
      state = (await ctx.client.workflow.getHandle(workflowId).query(stateQuery)) as typeof state;
    } catch (error) {
      throw await translateWorkflowError(ctx.client, error, workflowId);
    }
    // the child's earlier assessments (other referrals), for the duty decision, when asked for.
    const childRefs = state.childRefs ?? state.children?.map((child) => child.childRef) ?? [];
    const earlier = include === 'earlierInvolvement' ? await earlierInvolvement(ctx.client, principalOf(res), referralId, childRefs) : undefined;
    res.json(earlier ? { ...state, earlierInvolvement: earlier } : state);
  });

  return router;
}

