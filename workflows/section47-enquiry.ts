/**
 * A section 47 enquiry, started by a strategy discussion that decided on one. The
 * child is seen within hours of the start; where an initial child protection conference
 * is to be convened, it is held within 15 working days of the INITIAL strategy discussion
 * (not of this enquiry). Missing either deadline escalates; the enquiry keeps waiting.
 */
import { planRefusal, type ChildInNeedPlan } from '../domain/child-in-need-plan';
import { censusWorkingDays } from '../domain/cin-census/measures';
import type { DomainEvent } from '../domain/events';
import { section47EnquiryWorkflowId } from '../domain/ids';
import type { Section47EnquiryInput, Section47Result } from '../domain/process';
import type { AnyDecision, Prompt } from '../domain/prompts';
import type { RecordEntry } from '../domain/record';
import { addHours, addWorkingDays } from '../domain/working-days';
import { startChildInNeedPlan, type ChildInNeedPlanEntry } from './assessment-outcomes';
import { CaseEngine, type EventVerdict, type PendingDeadline } from './engine';
import { createOutbound } from './outbound';
import { applyPromptTiming } from './prompt-timing';
import { CensusWorkingDaysKey, CompletedAtKey, LocalAuthorityKey, ManagerIdKey, OverdueKey, ReferralIdKey, StageKey, TeamKey, TrackKey } from './search-attributes';

export { section47EnquiryWorkflowId };

export type Section47Stage = 'enquiring' | 'awaiting-conference' | 'concluded';

export interface Section47State {
  workflowId: string;
  referralId: string;
  childRef: string;
  sequence: number;
  stage: Section47Stage;
  startedAt: string;
  initialStrategyDiscussionAt: string;
  childSeenDueAt: string;
  childSeenAt?: string;
  outcome?: Section47Result['outcome'];
  /** When the outcome was decided (the decision's own date, which a migrated case back-dates). */
  outcomeDecidedAt?: string;
  conferenceDueAt?: string;
  conferenceHeldAt?: string;
  overdue: { childSeen: boolean; conference: boolean };
  /** the child in need plan this enquiry's outcome started (cases since the outcomes-follow-on change). */
  childInNeedPlan?: ChildInNeedPlanEntry;
  /** The pending deadlines, earliest first. */
  deadlines: PendingDeadline[];
  prompts: Prompt[];
  openPrompts: Prompt[];
  record: RecordEntry[];
}

export async function section47EnquiryWorkflow(input: Section47EnquiryInput): Promise<Section47Result> {
  const engine = new CaseEngine({ idScheme: input.idScheme });
  const outbound = createOutbound(engine, { referralId: input.referralId, childRef: input.childRef });
  const { policy, calendar } = input;
  const iso = (ms: number) => new Date(ms).toISOString();

  let stage: Section47Stage = 'enquiring';
  const childSeenDueAt = addHours(Date.parse(input.startedAt), policy.section47ChildSeenHours);
  // Seen after the strategy discussion was called and before this enquiry started: credited here.
  let childSeenAt: string | undefined = engine.integrity ? input.childSeenAt : undefined;
  let outcome: Section47Result['outcome'] | undefined;
  let outcomeDecidedAt: string | undefined;
  let conferenceDueAt: number | undefined;
  let conferenceHeldAt: string | undefined;
  const overdue = { childSeen: false, conference: false };
  const childInNeedPlans: ChildInNeedPlanEntry[] = [];
  applyPromptTiming(engine, calendar, policy, outbound);
  engine.setDecisionsNotBefore(Date.parse(input.startedAt));

  const state = (): Section47State => ({
    workflowId: engine.workflowId,
    referralId: input.referralId,
    childRef: input.childRef,
    sequence: input.sequence,
    stage,
    startedAt: input.startedAt,
    initialStrategyDiscussionAt: input.initialStrategyDiscussionAt,
    childSeenDueAt: iso(childSeenDueAt),
    childSeenAt,
    outcome,
    outcomeDecidedAt,
    conferenceDueAt: conferenceDueAt === undefined ? undefined : iso(conferenceDueAt),
    conferenceHeldAt,
    overdue,
    childInNeedPlan: childInNeedPlans[0],
    deadlines: engine.pendingDeadlines(),
    prompts: engine.prompts,
    openPrompts: engine.openPrompts(),
    record: engine.record,
  });

  const escalate = (about: string, recipients: Array<'manager' | 'head-of-service'>) => {
    if (!engine.integrity) engine.log({ source: 'engine', type: 'deadline-passed', status: 'applied', rule: 'R-27', reason: about });
    const prompt = engine.raisePrompt('escalation', 'R-27', { about });
    for (const recipient of recipients) outbound.notify(recipient, `${about}-overdue`, 'R-27', { promptId: prompt.promptId });
  };

  const conclude = () => {
    stage = 'concluded';
    engine.clearDeadline('child-seen');
    engine.clearDeadline('initial-child-protection-conference');
    engine.withdrawPrompts('escalation', 'the enquiry concluded');
    outbound.caseRecord('section-47-outcome', { outcome, childSeenAt, conferenceDueAt: conferenceDueAt && iso(conferenceDueAt), conferenceHeldAt });
  };

  const refuseEvent = (event: DomainEvent): { rejected: string; rule?: string } | undefined => {
    if (stage === 'concluded') return { rejected: 'the section 47 enquiry has concluded', rule: 'R-27' };
    if (event.type === 'child-seen') return undefined;
    if (event.type === 'child-protection-conference-held') {
      return stage === 'awaiting-conference' ? undefined : { rejected: 'no initial child protection conference was decided on in this enquiry', rule: 'R-27' };
    }
    return { rejected: `a ${event.type} event belongs to the child's assessment, not the section 47 enquiry` };
  };

  engine.installHandlers({
    refuseEvent,
    onEvent(event: DomainEvent): EventVerdict {
      const refusal = refuseEvent(event);
      if (refusal) return refusal;
      if (event.type === 'child-seen') {
        if (childSeenAt !== undefined) return { rule: 'R-27' };
        childSeenAt = event.occurredAt;
        engine.clearDeadline('child-seen');
        engine.withdrawPrompts('escalation', 'the child has been seen', 'child-seen');
        return { rule: 'R-27' };
      }
      conferenceHeldAt = event.occurredAt;
      conclude();
      return { rule: 'R-27' };
    },
    validateDecision(prompt: Prompt, decision: AnyDecision) {
      // An enquiry cannot conclude on a child nobody has seen.
      if (prompt.kind === 'section-47-outcome' && childSeenAt === undefined) return 'R-27: the child has not been seen in this enquiry yet';
      // since the outcomes-follow-on change, a child in need plan outcome states the plan.
      if (engine.outcomesFollowOn && prompt.kind === 'section-47-outcome' && decision.decision === 'child-in-need-plan') {
        const plan = (decision as { childInNeedPlan?: ChildInNeedPlan }).childInNeedPlan;
        if (!plan) return 'R-44: a child in need plan outcome needs the plan (childInNeedPlan: services, action points, review dates, intended outcomes, contingency, discussion)';
        return planRefusal(plan, Date.now());
      }
      return undefined;
    },
    onDecision(prompt: Prompt, decision: AnyDecision) {
      if (prompt.kind !== 'section-47-outcome') return;
      outcome = decision.decision as Section47Result['outcome'];
      outcomeDecidedAt = decision.decidedAt;
      if (outcome === 'initial-child-protection-conference') {
        stage = 'awaiting-conference';
        conferenceDueAt = addWorkingDays(calendar, Date.parse(input.initialStrategyDiscussionAt), policy.initialConferenceWorkingDays);
        engine.setDeadline('initial-child-protection-conference', conferenceDueAt, () => {
          if (stage !== 'awaiting-conference') return;
          overdue.conference = true;
          escalate('initial-child-protection-conference', ['manager', 'head-of-service']);
        });
        outbound.notify('manager', 'initial-child-protection-conference-to-convene', 'R-27', { promptId: prompt.promptId });
        return;
      }
      const plan = (decision as { childInNeedPlan?: ChildInNeedPlan }).childInNeedPlan;
      if (engine.outcomesFollowOn && outcome === 'child-in-need-plan' && plan) {
        // the plan's own workflow, which outlives this enquiry.
        const { childSeenAt: _seen, startedAt: _started, initialStrategyDiscussionAt: _initial, sequence, childRef, ...caseContext } = input;
        startChildInNeedPlan(
          engine,
          outbound,
          { ...caseContext, idScheme: engine.idScheme, childRef, origin: { kind: 'section-47', sequence }, startedAt: decision.decidedAt, decidedBy: decision.decidedBy, plan },
          childInNeedPlans,
        );
      }
      conclude();
    },
    state,
    searchAttributes: () => [
      { key: StageKey, value: `section-47-${stage}` },
      ...(engine.integrity ? [{ key: OverdueKey, value: stage !== 'concluded' && ((overdue.childSeen && childSeenAt === undefined) || overdue.conference) }] : []),
      { key: TrackKey, value: 'S47' },
      { key: ReferralIdKey, value: input.referralId },
      ...(input.team ? [{ key: TeamKey, value: input.team }] : []),
      ...(input.managerId ? [{ key: ManagerIdKey, value: input.managerId }] : []),
      ...(input.localAuthority ? [{ key: LocalAuthorityKey, value: input.localAuthority }] : []),
      ...(engine.censusMeasures && conferenceHeldAt !== undefined
        ? [
            { key: CompletedAtKey, value: new Date(conferenceHeldAt) },
            { key: CensusWorkingDaysKey, value: censusWorkingDays(calendar, input.startedAt, conferenceHeldAt) },
          ]
        : []),
    ],
  });

  // The outcome is needed in time for a conference: it is due when a conference would be.
  const outcomeDueBy = engine.integrity
    ? addWorkingDays(calendar, Date.parse(input.initialStrategyDiscussionAt), policy.initialConferenceWorkingDays)
    : undefined;
  engine.raisePrompt('section-47-outcome', 'R-27', outcomeDueBy === undefined ? {} : { dueBy: outcomeDueBy });
  if (childSeenAt === undefined) engine.setDeadline('child-seen', childSeenDueAt, () => {
    if (childSeenAt !== undefined || stage === 'concluded') return;
    overdue.childSeen = true;
    escalate('child-seen', ['manager']);
  });

  await engine.run(() => stage === 'concluded');
  if (!outcome) throw new Error('unreachable: a concluded enquiry has an outcome');
  return { outcome, childSeenAt, conferenceDueAt: conferenceDueAt === undefined ? undefined : iso(conferenceDueAt), conferenceHeldAt };
}
