import { workflowIdOfPrompt } from '../domain/ids';
import { decideUpdate, type DecisionAccepted } from '../workflows/messages';
import { refuseBeforeReferral, stampDecision } from './actors';
import type { Principal } from './auth';
import type { RouteContext } from './context';
import { HttpError, refuseFutureTimes } from './errors';
import { receivedAtOf, translateWorkflowError } from './routes/events';

/**
 * Answers a prompt through the workflow Update `decide`: the one path of the API route and
 * the decision form, so a decision made in the browser is checked, stamped and refused
 * exactly as one sent by an integrator. `body` has been parsed with the request schema.
 * Refusals are HttpErrors: 409 unknown or closed prompt, 422 not allowed or invalid.
 */
export async function submitDecision(
  ctx: RouteContext,
  principal: Principal,
  promptId: string,
  body: { decision: string; rationale: string; decidedBy?: string; decidedAt?: string } & Record<string, unknown>,
): Promise<DecisionAccepted> {
  const workflowId = workflowIdOfPrompt(promptId) as string;
  // A decision dated ahead of now would settle a deadline that has not been met yet.
  refuseFutureTimes({ decidedAt: body.decidedAt }, ctx.now());
  const decision = { ...stampDecision(principal, body, ctx.now(), ctx.backdateWindowMs), promptId };
  refuseBeforeReferral({ decidedAt: decision.decidedAt }, await receivedAtOf(ctx.client.workflow.getHandle(workflowId)));
  try {
    return await ctx.client.workflow.getHandle(workflowId).executeUpdate(decideUpdate, { args: [decision] });
  } catch (error) {
    throw decisionError(await translateWorkflowError(ctx.client, error, workflowId));
  }
}

/** The update validator's rejection codes: unknown or closed prompt → 409; answer not allowed or invalid → 422. */
function decisionError(error: unknown): unknown {
  if (error instanceof HttpError && error.code === 'workflow-closed') return new HttpError(409, 'prompt-closed', `${error.message}: its prompts are closed`);
  if (error instanceof HttpError && (error.code === 'unknown-prompt' || error.code === 'prompt-closed')) {
    return new HttpError(409, error.code, error.message, error.extra);
  }
  return error;
}
