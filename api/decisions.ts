import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { workflowIdOfPrompt } from '../domain/ids';
import { idempotencyKeyReusedMessage } from '../domain/prompts';
import { decideUpdate, keyedAnswerQuery, stateQuery, type DecisionAccepted, type DecisionRequestKey, type KeyedAnswer, type RecordedDecision } from '../workflows/messages';
import { refuseBeforeReferral, stampDecision } from './actors';
import { canonicalJson, sha256Hex } from './canonical';
import type { Principal } from './auth';
import type { RouteContext } from './context';
import { HttpError, refuseFutureTimes } from './errors';
import { receivedAtOf, translateWorkflowError } from './routes/events';

/**
 * Answers a prompt through the workflow Update `decide`: the one path of the API route and
 * the decision form, so a decision made in the browser is checked, stamped and refused
 * exactly as one sent by an integrator. `body` has been parsed with the request schema.
 * Refusals are HttpErrors: 409 unknown or closed prompt, 422 not allowed or invalid.
 *
 * With an `idempotencyKey` (the Idempotency-Key header) the request is retry-safe: the
 * workflow keeps the key and a hash of this request (body as sent, and caller) with the
 * answer, so a repeat answers as the first did (`duplicate: true`, the recorded decision)
 * and the same key with another request is 422 `idempotency-key-reused`.
 */
export async function submitDecision(
  ctx: RouteContext,
  principal: Principal,
  promptId: string,
  body: { decision: string; rationale: string; decidedBy?: string; decidedAt?: string } & Record<string, unknown>,
  options: { idempotencyKey?: string } = {},
): Promise<DecisionAccepted> {
  const workflowId = workflowIdOfPrompt(promptId) as string;
  // Hashed before the defaults are filled in: a repeat without decidedAt is the same request.
  const request: DecisionRequestKey | undefined =
    options.idempotencyKey === undefined ? undefined : { idempotencyKey: options.idempotencyKey, requestHash: decisionRequestHash(principal, promptId, body) };
  // A decision dated ahead of now would settle a deadline that has not been met yet.
  refuseFutureTimes({ decidedAt: body.decidedAt }, ctx.now());
  const decision = { ...stampDecision(principal, body, ctx.now(), ctx.backdateWindowMs), promptId };
  const handle = ctx.client.workflow.getHandle(workflowId);
  refuseBeforeReferral({ decidedAt: decision.decidedAt }, await receivedAtOf(handle));
  try {
    const accepted = await handle.executeUpdate(decideUpdate, { args: request ? [decision, request] : [decision] });
    ctx.promptListings.answered(promptId);
    // A case started since the quiet-engine patch leaves its state out of the update's result (kept in history).
    return 'state' in accepted ? accepted : { ...accepted, state: await handle.query(stateQuery) };
  } catch (error) {
    const repeated = repeatedAnswer(error);
    if (repeated) return repeated;
    const answer = await translateWorkflowError(ctx.client, error, workflowId);
    // A decision that closed its workflow (e.g. no further action on a referral) can be
    // repeated too: no update reaches the workflow now, so its answer is asked by query.
    if (request && answer instanceof HttpError && answer.code === 'workflow-closed') {
      const repeatOfClosing = await repeatToClosedWorkflow(handle, promptId, request);
      if (repeatOfClosing) return repeatOfClosing;
    }
    throw decisionError(answer);
  }
}

/** A repeat of the request that answered this prompt of a closed workflow, answered as accepted; undefined when it is not one. */
async function repeatToClosedWorkflow(handle: WorkflowHandle, promptId: string, request: DecisionRequestKey): Promise<DecisionAccepted | undefined> {
  let answered: KeyedAnswer | null;
  try {
    answered = await handle.query(keyedAnswerQuery, promptId);
  } catch {
    return undefined; // a workflow from before the query, or unreadable now: the 409 stands
  }
  if (!answered || answered.idempotencyKey !== request.idempotencyKey) return undefined;
  if (answered.requestHash !== request.requestHash) {
    const message = idempotencyKeyReusedMessage(request.idempotencyKey, promptId);
    throw new HttpError(422, 'idempotency-key-reused', message, { issues: [{ path: 'Idempotency-Key', message }] });
  }
  return { accepted: true, promptId, duplicate: true, decision: answered.decision, state: await handle.query(stateQuery) };
}

/** What identifies a decision request under its key: who sent it, to which prompt, with which body (key order and absent fields aside). */
export function decisionRequestHash(principal: Principal, promptId: string, body: Record<string, unknown>): string {
  return sha256Hex(canonicalJson({ caller: principal.sub, promptId, body }));
}

/**
 * The validator's refusal of a repeat (workflows/engine.ts): the prompt was answered by
 * this very request, so it is answered as accepted, with the decision recorded then.
 */
function repeatedAnswer(error: unknown): DecisionAccepted | undefined {
  if (!(error instanceof WorkflowUpdateFailedError) || !(error.cause instanceof ApplicationFailure) || error.cause.type !== 'decision-repeated') return undefined;
  const details = error.cause.details?.[0] as { promptId: string; decision: RecordedDecision; state: unknown } | undefined;
  if (!details) return undefined;
  return { accepted: true, promptId: details.promptId, duplicate: true, decision: details.decision, state: details.state };
}

/** The update validator's rejection codes: unknown or closed prompt → 409; answer not allowed or invalid → 422. */
function decisionError(error: unknown): unknown {
  if (error instanceof HttpError && error.code === 'workflow-closed') return new HttpError(409, 'prompt-closed', `${error.message}: its prompts are closed`);
  if (error instanceof HttpError && (error.code === 'unknown-prompt' || error.code === 'prompt-closed')) {
    return new HttpError(409, error.code, error.message, error.extra);
  }
  return error;
}
