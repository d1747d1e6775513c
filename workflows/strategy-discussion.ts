/**
 * A strategy discussion, called by an assessment when significant harm is suspected
 * . It is held promptly with police and health at least; its outcome is a section 47
 * enquiry (a child workflow), no section 47 (the assessment continues under section 17), or
 * emergency protective action — which is followed by an enquiry too, since emergency
 * protection is always followed by section 47 enquiries.
 */
import { CancellationScope, getExternalWorkflowHandle, isCancellation, ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { DomainEvent } from '../domain/events';
import { section47EnquiryWorkflowId, strategyDiscussionWorkflowId } from '../domain/ids';
import { strategyDiscussionInvitees } from '../domain/outcomes';
import type { Section47EnquiryInput, Section47Result, StrategyDiscussionInput, StrategyDiscussionResult } from '../domain/process';
import type { AnyDecision, DecisionFor, Prompt } from '../domain/prompts';
import type { RecordEntry } from '../domain/record';
import { addWorkingDays } from '../domain/working-days';
import { CaseEngine, type EventVerdict, type PendingDeadline } from './engine';
import { eventSignal } from './messages';
import { createOutbound } from './outbound';
import { applyPromptTiming } from './prompt-timing';
import { section47EnquiryWorkflow } from './section47-enquiry';
import { LocalAuthorityKey, ManagerIdKey, OverdueKey, ReferralIdKey, StageKey, TeamKey, TrackKey } from './search-attributes';

export { strategyDiscussionWorkflowId };

export type StrategyDiscussionStage = 'awaiting-discussion' | 'section-47-enquiry' | 'concluded';
type OutcomeDecision = DecisionFor<'strategy-discussion-outcome'>;

export interface StrategyDiscussionState {
  workflowId: string;
  referralId: string;
  childRef: string;
  sequence: number;
  stage: StrategyDiscussionStage;
  calledAt: string;
  discussionDueAt: string;
  overdue: boolean;
  heldAt?: string;
  outcome?: StrategyDiscussionResult['outcome'];
  attendees?: OutcomeDecision['attendees'];
  /** who is invited (police and health at least; the referring agency where one referred). */
  invitees: string[];
  safetyPlanUntil?: string;
  section47WorkflowId?: string;
  section47?: Section47Result;
  /** The child was seen (as the assessment forwarded) after this discussion was called. */
  childSeenAt?: string;
  /** The pending deadlines, earliest first. */
  deadlines: PendingDeadline[];
  prompts: Prompt[];
  openPrompts: Prompt[];
  record: RecordEntry[];
}

/** police and health at least. */
const REQUIRED_ATTENDEES = ['police', 'health'] as const;

export async function strategyDiscussionWorkflow(input: StrategyDiscussionInput): Promise<StrategyDiscussionResult> {
  const engine = new CaseEngine({ idScheme: input.idScheme });
  const outbound = createOutbound(engine, { referralId: input.referralId, childRef: input.childRef });
  const { policy, calendar } = input;
  const discussionDueAt = addWorkingDays(calendar, Date.parse(input.calledAt), policy.strategyDiscussionWorkingDays);

  let stage: StrategyDiscussionStage = 'awaiting-discussion';
  let overdue = false;
  let heldAt: string | undefined;
  let outcome: StrategyDiscussionResult['outcome'] | undefined;
  let attendees: OutcomeDecision['attendees'] | undefined;
  let safetyPlanUntil: string | undefined;
  let section47WorkflowId: string | undefined;
  let section47: Section47Result | undefined;
  let childSeenAt: string | undefined;
  let enquiryRunning = false;
  applyPromptTiming(engine, calendar, policy, outbound);
  engine.setDecisionsNotBefore(Date.parse(input.calledAt));

  const state = (): StrategyDiscussionState => ({
    workflowId: engine.workflowId,
    referralId: input.referralId,
    childRef: input.childRef,
    sequence: input.sequence,
    stage,
    calledAt: input.calledAt,
    discussionDueAt: new Date(discussionDueAt).toISOString(),
    overdue,
    heldAt,
    outcome,
    attendees,
    invitees: strategyDiscussionInvitees(input.referrerType, { lookedAfter: input.lookedAfter }),
    safetyPlanUntil,
    section47WorkflowId,
    section47,
    childSeenAt,
    deadlines: engine.pendingDeadlines(),
    prompts: engine.prompts,
    openPrompts: engine.openPrompts(),
    record: engine.record,
  });

  const startEnquiry = (decidedAt: string) => {
    stage = 'section-47-enquiry';
    section47WorkflowId = section47EnquiryWorkflowId(input.referralId, input.childRef, input.sequence, engine.idScheme);
    const enquiryInput: Section47EnquiryInput = {
      referralId: input.referralId,
      receivedAt: input.receivedAt,
      referrerType: input.referrerType,
      childProtectionConcern: true,
      team: input.team,
      managerId: input.managerId,
      localAuthority: input.localAuthority,
      policy,
      calendar,
      idScheme: engine.idScheme,
      childRef: input.childRef,
      sequence: input.sequence,
      startedAt: decidedAt,
      // the conference deadline runs from the strategy discussion that started this
      // enquiry (cases started before the deadline-integrity change: the child's first).
      initialStrategyDiscussionAt: engine.integrity ? decidedAt : (input.initialStrategyDiscussionAt ?? decidedAt),
      ...(engine.integrity && childSeenAt !== undefined ? { childSeenAt } : {}),
    };
    const workflowId = section47WorkflowId;
    engine.later(async () => {
      try {
        const handle = await startChild(section47EnquiryWorkflow, {
          workflowId,
          args: [enquiryInput],
          // A statutory enquiry goes on even if this discussion's workflow is ended by operations.
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        enquiryRunning = true;
        const result = await handle.result();
        section47 = result;
        engine.log({ source: 'engine', type: 'section-47-concluded', ref: workflowId, status: 'applied', rule: 'R-27', reason: result.outcome });
      } catch (error) {
        // This discussion being cancelled stops it; the enquiry alone being cancelled (by
        // operations) is recorded, and the discussion concludes.
        const ownCancellation = !engine.integrity || CancellationScope.current().consideredCancelled;
        if (isCancellation(error) && ownCancellation) throw error;
        const cancelled = isCancellation(error);
        engine.log({
          source: 'engine',
          type: cancelled ? 'section-47-cancelled' : 'section-47-failed',
          ref: workflowId,
          status: cancelled ? 'applied' : 'rejected',
          rule: 'R-27',
          reason: error instanceof Error ? error.message : String(error),
        });
        outbound.notify('manager', cancelled ? 'section-47-enquiry-cancelled' : 'section-47-enquiry-failed', 'R-27');
      }
      enquiryRunning = false;
      stage = 'concluded';
    });
  };

  /**
   * The assessment forwards the child being seen and a conference held. Seen before the
   * enquiry starts, it is credited to the enquiry; later ones go on to the enquiry.
   */
  const refuseEvent = (event: DomainEvent): { rejected: string } | undefined => {
    const forwarded = engine.integrity && (event.type === 'child-seen' || (event.type === 'child-protection-conference-held' && stage === 'section-47-enquiry'));
    if (forwarded && stage !== 'concluded') return undefined;
    return { rejected: `a ${event.type} event belongs to the child's assessment (which forwards what the section 47 enquiry needs)` };
  };

  engine.installHandlers({
    refuseEvent,
    onEvent(event: DomainEvent): EventVerdict {
      const refusal = refuseEvent(event);
      if (refusal) return refusal;
      if (event.type === 'child-seen' && childSeenAt === undefined) childSeenAt = event.occurredAt;
      if (enquiryRunning && section47WorkflowId) {
        const target = section47WorkflowId;
        engine.later(async () => {
          try {
            await getExternalWorkflowHandle(target).signal(eventSignal, event);
            engine.log({ source: 'engine', type: 'event-forwarded', ref: event.eventId, status: 'applied', rule: 'R-27', reason: target });
          } catch (error) {
            if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
            engine.log({ source: 'engine', type: 'event-not-forwarded', ref: event.eventId, status: 'rejected', rule: 'R-27', reason: target });
          }
        });
      }
      return { rule: 'R-27' };
    },
    validateDecision(prompt: Prompt, decision: AnyDecision) {
      if (prompt.kind !== 'strategy-discussion-outcome') return undefined;
      const present = (decision as OutcomeDecision).attendees;
      const missing = REQUIRED_ATTENDEES.filter((agency) => !present.includes(agency));
      return missing.length > 0 ? `R-26: a strategy discussion needs police and health at least; missing: ${missing.join(', ')}` : undefined;
    },
    onDecision(prompt: Prompt, decision: AnyDecision) {
      if (prompt.kind !== 'strategy-discussion-outcome') return;
      const answer = decision as OutcomeDecision;
      outcome = answer.decision;
      attendees = answer.attendees;
      heldAt = answer.decidedAt;
      engine.clearDeadline('strategy-discussion');
      engine.withdrawPrompts('escalation', 'the strategy discussion was held');
      outbound.caseRecord('strategy-discussion-outcome', { outcome, heldAt, attendees });
      if (answer.decision === 'emergency-action') {
        safetyPlanUntil = answer.safetyPlanUntil;
        outbound.notify('police', 'emergency-action', 'R-26', { promptId: prompt.promptId }, true);
        outbound.notify('manager', 'emergency-action', 'R-26', { promptId: prompt.promptId }, true);
        startEnquiry(answer.decidedAt);
      } else if (answer.decision === 'section-47-enquiry') {
        startEnquiry(answer.decidedAt);
      } else {
        stage = 'concluded';
      }
    },
    state,
    searchAttributes: () => [
      { key: StageKey, value: `strategy-${stage}` },
      ...(engine.integrity ? [{ key: OverdueKey, value: overdue && stage === 'awaiting-discussion' }] : []),
      { key: TrackKey, value: 'S47' },
      { key: ReferralIdKey, value: input.referralId },
      ...(input.team ? [{ key: TeamKey, value: input.team }] : []),
      ...(input.managerId ? [{ key: ManagerIdKey, value: input.managerId }] : []),
      ...(input.localAuthority ? [{ key: LocalAuthorityKey, value: input.localAuthority }] : []),
    ],
  });

  const outcomePrompt = engine.raisePrompt('strategy-discussion-outcome', 'R-26', { dueBy: discussionDueAt, escalatedByWorkflow: true });
  outbound.notify('manager', 'strategy-discussion-called', 'R-26', { promptId: outcomePrompt.promptId }, true);
  engine.setDeadline('strategy-discussion', discussionDueAt, () => {
    if (stage !== 'awaiting-discussion') return;
    overdue = true;
    outcomePrompt.overdue = true;
    if (!engine.integrity) engine.log({ source: 'engine', type: 'deadline-passed', status: 'applied', rule: 'R-26', reason: 'strategy-discussion' });
    const escalation = engine.raisePrompt('escalation', 'R-26', { about: 'strategy-discussion' });
    outbound.notify('manager', 'strategy-discussion-overdue', 'R-26', { promptId: escalation.promptId });
  });

  await engine.run(() => stage === 'concluded');
  if (!outcome || !heldAt) throw new Error('unreachable: a concluded discussion has an outcome');
  return { outcome, heldAt, ...(section47 ? { section47 } : {}) };
}
