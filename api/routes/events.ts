import type { Request, Response } from 'express';
import { isGrpcServiceError, ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
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
    // A repeat is refused by the update's validator, so it is not written: still a 202 duplicate.
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === 'duplicate-event') {
      res.status(202).json({ accepted: true, duplicate: true });
      return;
    }
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
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type && error.cause.type in WRITE_LIMIT_ANSWERS) {
    // The workflow's own write limits (workflows/engine.ts EVENT_WRITE_LIMITS): nothing was written.
    const details = error.cause.details?.[0] as { retryAfterSeconds?: unknown; limit?: unknown } | undefined;
    const extra: Record<string, unknown> = {};
    if (typeof details?.retryAfterSeconds === 'number') extra.retryAfterSeconds = details.retryAfterSeconds;
    if (typeof details?.limit === 'number') extra.limit = details.limit;
    return new HttpError(WRITE_LIMIT_ANSWERS[error.cause.type]!, error.cause.type, error.cause.message, extra);
  }
  const limited = temporalLimitAnswer(error, workflowId);
  if (limited) return limited;
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

/** The statuses of the workflow's own write limits: a rate waits (429), a full case needs operations (503). */
const WRITE_LIMIT_ANSWERS: Record<string, number> = { 'too-many-events': 429, 'event-limit-reached': 503, 'history-full': 503 };

const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_FAILED_PRECONDITION = 9;

/**
 * Temporal's own per-run limits, never a 500 and never the end of a case: too many updates in
 * flight at once (RESOURCE_EXHAUSTED) → 429, retry shortly; the run's updates used up
 * (`history.maxTotalUpdates`, FAILED_PRECONDITION) or its history too large → 503, the case
 * takes no more writes until operations continue it.
 */
export function temporalLimitAnswer(error: unknown, workflowId: string): HttpError | undefined {
  const cause = error instanceof ServiceError ? error.cause : error;
  if (!isGrpcServiceError(cause)) return undefined;
  const detail = cause.details ?? '';
  if (cause.code === GRPC_RESOURCE_EXHAUSTED) {
    return new HttpError(429, 'temporal-busy', `Temporal is taking no more writes to ${workflowId} for now (${detail || 'resource exhausted'}): retry shortly`, { retryAfterSeconds: 1 });
  }
  if (cause.code === GRPC_FAILED_PRECONDITION && /limit on number of total updates|history (size|count)|exceeds? (the )?limit|too many/i.test(detail)) {
    return new HttpError(503, 'case-write-limit', `Temporal takes no more writes to ${workflowId} (${detail}): operations must continue the case before it takes more`);
  }
  return undefined;
}
