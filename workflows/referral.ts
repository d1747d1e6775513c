import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DomainEvent } from '../domain/events';
import { promptIdFor, referralWorkflowId } from '../domain/ids';
import { allowedDecisions, type Prompt } from '../domain/prompts';
import type { RecordEntry } from '../domain/record';
import { authorityPolicySchema, type AuthorityPolicy } from '../domain/policy';
import type { ReferralInput } from '../domain/referral';
import { eventSignal, openPromptsQuery, stateQuery } from './messages';

export { referralWorkflowId };

export interface ReferralState {
  workflowId: string;
  referralId: string;
  stage: 'awaiting-duty-decision' | 'closed';
  policy: AuthorityPolicy;
  prompts: Prompt[];
  record: RecordEntry[];
}

/** a referral waits for the duty manager's decision on how to respond. */
export async function referralWorkflow(input: ReferralInput): Promise<ReferralState> {
  const now = () => new Date().toISOString();
  const workflowId = workflowInfo().workflowId;
  const state: ReferralState = {
    workflowId,
    referralId: input.referralId,
    stage: 'awaiting-duty-decision',
    // The policy in force when the referral arrived is pinned for the life of the case.
    policy: authorityPolicySchema.parse(input.policy ?? {}),
    prompts: [
      {
        promptId: promptIdFor(workflowId, 'duty-decision', 1),
        kind: 'duty-decision',
        rule: 'R-1',
        raisedAt: now(),
        allowedDecisions: allowedDecisions('duty-decision'),
        status: 'open',
      },
    ],
    record: [],
  };
  const seenEventIds = new Set<string>();

  setHandler(eventSignal, (event: DomainEvent) => {
    if (seenEventIds.has(event.eventId)) return;
    seenEventIds.add(event.eventId);
    const entry: RecordEntry = { at: now(), source: 'event', type: event.type, ref: event.eventId, actor: event.actor, status: 'applied', occurredAt: event.occurredAt };
    if (event.type !== 'consent-recorded') {
      entry.status = 'rejected';
      entry.reason = `a ${event.type} event does not fit a referral awaiting its duty decision`;
    }
    state.record.push(entry);
  });
  setHandler(stateQuery, () => state);
  setHandler(openPromptsQuery, () => state.prompts.filter((prompt) => prompt.status === 'open'));

  await condition(() => state.stage === 'closed');
  return state;
}
