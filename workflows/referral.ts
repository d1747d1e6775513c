import type { DomainEvent } from '../domain/events';
import { referralWorkflowId } from '../domain/ids';
import type { AnyDecision, Prompt } from '../domain/prompts';
import { authorityPolicySchema, type AuthorityPolicy } from '../domain/policy';
import type { ReferralInput } from '../domain/referral';
import type { RecordEntry } from '../domain/record';
import { CaseEngine, type EventVerdict } from './engine';
import { LocalAuthorityKey, ReferralIdKey, StageKey, TeamKey } from './search-attributes';

export { referralWorkflowId };

export interface ReferralState {
  workflowId: string;
  referralId: string;
  stage: 'awaiting-duty-decision' | 'closed';
  policy: AuthorityPolicy;
  dutyDecision?: string;
  prompts: Prompt[];
  openPrompts: Prompt[];
  record: RecordEntry[];
}

/** a referral waits for the duty manager's decision on how to respond. */
export async function referralWorkflow(input: ReferralInput): Promise<ReferralState> {
  const engine = new CaseEngine();
  // The policy in force when the referral arrived is pinned for the life of the case.
  const policy = authorityPolicySchema.parse(input.policy ?? {});
  let stage: ReferralState['stage'] = 'awaiting-duty-decision';
  let dutyDecision: string | undefined;

  const state = (): ReferralState => ({
    workflowId: engine.workflowId,
    referralId: input.referralId,
    stage,
    policy,
    dutyDecision,
    prompts: engine.prompts,
    openPrompts: engine.openPrompts(),
    record: engine.record,
  });

  engine.installHandlers({
    onEvent(event: DomainEvent): EventVerdict {
      if (event.type === 'consent-recorded') return { rule: 'R-2' };
      return { rejected: `a ${event.type} event does not fit a referral at stage ${stage}` };
    },
    onDecision(prompt: Prompt, decision: AnyDecision) {
      if (prompt.kind === 'duty-decision') {
        dutyDecision = decision.decision;
        stage = 'closed';
      }
    },
    state,
    searchAttributes: () => [
      { key: StageKey, value: stage },
      { key: ReferralIdKey, value: input.referralId },
      ...(input.team ? [{ key: TeamKey, value: input.team }] : []),
      ...(input.localAuthority ? [{ key: LocalAuthorityKey, value: input.localAuthority }] : []),
    ],
  });

  engine.raisePrompt('duty-decision', 'R-1');
  await engine.run(() => stage === 'closed');
  return state();
}
