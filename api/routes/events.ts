import type { Request, Response } from 'express';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { domainEventSchema } from '../../domain/events';
import { recordEventUpdate, stateQuery } from '../../workflows/messages';
import { refuseBeforeReferral, stampEvent } from '../actors';
import { principalOf } from '../auth';
import type { RouteContext } from '../context';
import { auditTarget } from '../audit';
import { HttpError, parseOr400, refuseFutureTimes } from '../errors';

/**
 * Delivers one field event through the `recordEvent` Update: the workflow says whether the
 * eventId had reached it before, so a retried delivery answers `duplicate: true`. An event
 * the case cannot take (it does not fit the stage, a rule refuses it) answers 422
 * `event-refused` with the reason, and its eventId stays free for a corrected resend.
 */
export async function deliverEvent(ctx: RouteContext, workflowId: string, req: Request, res: Response): Promise<void> {
  auditTarget(res, { workflowId });
  const now = ctx.now();
  const event = parseOr400(domainEventSchema, stampEvent(principalOf(res), req.body, now, ctx.backdateWindowMs));
  refuseFutureTimes({ occurredAt: event.occurredAt, recordedAt: event.recordedAt }, now);
  const handle = ctx.client.workflow.getHandle(workflowId);
  refuseBeforeReferral({ occurredAt: event.occurredAt }, await receivedAtOf(handle));
  try {
    const result = await handle.executeUpdate(recordEventUpdate, { args: [event] });
    res.status(202).json({ accepted: true, duplicate: result.duplicate });
  } catch (error) {
    const answer = await translateWorkflowError(ctx.client, error, workflowId);
    // once a case has closed, what is learnt about the child starts a new referral.
    if (answer instanceof HttpError && answer.code === 'workflow-closed') {
      throw new HttpError(409, 'workflow-closed', `${answer.message}: send what was learnt as a new referral (POST /v1/referrals), which the duty manager decides on (R-1, R-25)`);
    }
    throw answer;
  }
}

/** When the case's referral was received (its state says); undefined if the state cannot be read now. */
export async function receivedAtOf(handle: WorkflowHandle): Promise<string | undefined> {
  try {
    const state = (await handle.query(stateQuery)) as { receivedAt?: unknown };
    return typeof state.receivedAt === 'string' ? state.receivedAt : undefined;
  } catch {
    return undefined; // the update that follows answers for a workflow that is gone
  }
}

/**
 * Maps what Temporal says about a workflow that is missing or closed to an HTTP answer.
 * An Update to a closed workflow fails as "not found", so the workflow is described to
 * tell a closed one (409) from one that never existed (404).
 */
export async function translateWorkflowError(client: Client, error: unknown, workflowId: string): Promise<unknown> {
  if (error instanceof WorkflowNotFoundError) {
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      if (description.status.name !== 'RUNNING') return new HttpError(409, 'workflow-closed', `workflow ${workflowId} has closed (${description.status.name})`);
    } catch (describeError) {
      if (!(describeError instanceof WorkflowNotFoundError)) throw describeError;
    }
    return new HttpError(404, 'not-found', `no workflow ${workflowId}`);
  }
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    // The validator's rejection (domain/prompts.ts DecisionRejection): keep its allowedDecisions or issues.
    const details = error.cause.details?.[0];
    const extra: Record<string, unknown> = {};
    if (details && typeof details === 'object') {
      for (const [key, value] of Object.entries(details)) if (['allowedDecisions', 'issues', 'rule'].includes(key)) extra[key] = value;
    }
    return new HttpError(422, error.cause.type ?? 'rejected', error.cause.message, extra);
  }
  const message = (error as Error)?.message ?? '';
  if (/already completed|workflow execution already completed|not running/i.test(message)) {
    return new HttpError(409, 'workflow-closed', `workflow ${workflowId} has closed`);
  }
  return error;
}
