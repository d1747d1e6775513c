/**
 * What an assessment's outcome and its emergencies start (process-rules.md section 9), for
 * cases started since the outcomes-follow-on change (`engine.outcomesFollowOn`, behind
 * `patched('outcomes-follow-on')`): the assessment wires these handlers in and keeps its own
 * behaviour for older cases.
 *
 * - the sign-off's outcome must fit its determinations; "significant harm: yes" with
 *   an outcome other than a strategy discussion or emergency action starts one unless one
 *   was held or runs.
 * - "child in need plan" starts the plan's own workflow (it outlives the
 *   assessment); "need for accommodation" asks the route and emits "care plan required".
 * - emergency protective action at any time: police and manager told at once, a
 *   strategy discussion unless one for the concern runs or was held, a decision for each
 *   other child of the household; the assessment goes on.
 * - specialist assessments, requested during the assessment or as its outcome, are
 *   tracked until their result arrives as new information; the case stays open
 *   meanwhile. Time for the result: policy, no default: without one, it is listed as
 *   awaiting and the manager reminded.
 */
import { isCancellation, ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { AssessmentStage, SignOffDecision } from '../domain/assessment-rules';
import type { ChildInNeedPlan, ChildInNeedPlanInput, PlanOrigin } from '../domain/child-in-need-plan';
import type { DomainEvent } from '../domain/events';
import { childInNeedPlanWorkflowId } from '../domain/ids';
import { needsStrategyDiscussion, outcomeRefusal, type SpecialistAssessmentRequest } from '../domain/outcomes';
import type { PlanReviewTrigger } from '../domain/policy';
import type { CaseContext } from '../domain/process';
import type { AnyDecision, DecisionFor, Prompt } from '../domain/prompts';
import { addWorkingDays } from '../domain/working-days';
import { createAssessmentPlan, type AssessmentPlanState } from './assessment-plan';
import { createSafetyPlanning, type SafetyPlanningState } from './assessment-safety';
import type { CaseEngine, EventVerdict } from './engine';
import type { Outbound } from './outbound';

/** The child in need plan's workflow type (workflows/child-in-need-plan.ts), started by name. */
const CHILD_IN_NEED_PLAN_WORKFLOW_TYPE = 'childInNeedPlanWorkflow';

export interface ChildInNeedPlanEntry {
  workflowId: string;
  origin: PlanOrigin;
  startedAt: string;
  status: 'starting' | 'running' | 'failed';
  failure?: string;
}

export interface EmergencyActionEntry {
  eventId: string;
  kind: string;
  decidedBy: string;
  occurredAt: string;
  /** What it did about a strategy discussion: started one, or one for the concern ran or was held. */
  strategyDiscussion: 'started' | 'already-running' | 'already-held';
}

export interface SpecialistAssessmentEntry extends SpecialistAssessmentRequest {
  requestedAt: string;
  /** As the outcome of the sign-off, or during the assessment. */
  requestedBy: 'sign-off' | 'event';
  status: 'awaiting' | 'received';
  resultDueAt?: string;
  resultReceivedAt?: string;
}

/** A step the engine waits for that has no time in the policy (section 9: listed, never dropped). */
export interface AwaitingStep {
  step: string;
  rule: string;
  ref?: string;
  since: string;
  reason: string;
}

export interface FollowOnState {
  childInNeedPlans: ChildInNeedPlanEntry[];
  emergencyActions: EmergencyActionEntry[];
  /** the decision asked for each other child of the household. */
  siblingDecisions: Array<{ childRef: string; promptId: string; decision?: string }>;
  specialistAssessments: SpecialistAssessmentEntry[];
  /** the route to accommodation, once the manager has given it (a care plan is required). */
  accommodationRoute?: string;
  /** the assessment plan, its versions, actions and reviews (workflows/assessment-plan.ts). */
  assessmentPlan: AssessmentPlanState;
  /** safety planning with the family's network (workflows/assessment-safety.ts). */
  safetyPlanning: SafetyPlanningState;
  /** R-24 (as extended): the copy of the assessment, its circulation to participants and the outcome's discussion, each sent or excepted. */
  circulation: Array<{ recipient: string; what: 'assessment-copy' | 'outcome-discussion'; target?: string; status: 'sent' | 'excepted' | 'awaited' | 'done'; reason?: string; at?: string }>;
  /** a pre-birth assessment: its disclosure after completion, the birth, and decisions on updating it. */
  preBirth: { applies: boolean; bornAt?: string; disclosureDueAt?: string; disclosure?: string; solicitorInstructed?: boolean; updateDecisions?: string[] };
  awaiting: AwaitingStep[];
}

/** Starts a child in need plan's workflow as a child that outlives its parent; the entry follows its start. */
export function startChildInNeedPlan(engine: CaseEngine, outbound: Outbound, input: ChildInNeedPlanInput, entries: ChildInNeedPlanEntry[]): ChildInNeedPlanEntry {
  const workflowId = childInNeedPlanWorkflowId(input.referralId, input.childRef, input.origin, engine.idScheme);
  const entry: ChildInNeedPlanEntry = { workflowId, origin: input.origin, startedAt: input.startedAt, status: 'starting' };
  entries.push(entry);
  engine.log({ source: 'engine', type: 'child-in-need-plan-starting', ref: workflowId, status: 'applied', rule: 'R-43' });
  engine.later(async () => {
    try {
      await startChild(CHILD_IN_NEED_PLAN_WORKFLOW_TYPE, {
        workflowId,
        args: [input],
        // The plan runs for months, long after the assessment or the enquiry has closed.
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      entry.status = 'running';
      engine.log({ source: 'engine', type: 'child-in-need-plan-started', ref: workflowId, status: 'applied', rule: 'R-43' });
    } catch (error) {
      if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
      entry.status = 'failed';
      entry.failure = error instanceof Error ? error.message : String(error);
      engine.log({ source: 'engine', type: 'child-in-need-plan-failed', ref: workflowId, status: 'rejected', rule: 'R-43', reason: entry.failure });
      outbound.notify('manager', 'child-in-need-plan-failed', 'R-43', {}, true);
    }
  }, { key: `child:${workflowId}` });
  return entry;
}

export interface FollowOnContext {
  engine: CaseEngine;
  outbound: Outbound;
  /** The case context the plan's workflow inherits (team as the assessment has it now). */
  caseContext: () => CaseContext;
  childRef: string;
  /** whether the family declined to engage, and the agencies that contributed (the assessment's participants). */
  familyDeclined: () => boolean;
  contributingAgencies: () => string[];
  /** the child receives the outcome (age), on the completion date. */
  childReceivesOutcome: (decidedAtMs: number) => boolean;
  /** the child is unborn at the referral (an expected delivery date). */
  preBirth: boolean;
  householdChildRefs: string[];
  stage: () => AssessmentStage;
  /** The strategy discussions of this assessment: their status decides whether start one. */
  strategyDiscussions: () => ReadonlyArray<{ sequence: number; status: string }>;
  startStrategyDiscussion: (cause: string, calledAtMs: number) => void;
  /** asks the manager's decision on new information (a specialist result after completion). */
  newInformation: (occurredAtMs: number) => void;
}

const OWN_EVENTS = new Set<DomainEvent['type']>([
  'emergency-action-taken',
  'immediate-safety-concern',
  'assessment-plan-recorded',
  'assessment-plan-action-done',
  'child-born',
  'outcome-discussed',
  'specialist-assessment-requested',
  'specialist-assessment-result-received',
  'cin-plan-sent',
  'cin-plan-review-requested',
]);

export function createOutcomeFollowOn(ctx: FollowOnContext) {
  const { engine, outbound } = ctx;
  const enabled = engine.outcomesFollowOn;
  const childInNeedPlans: ChildInNeedPlanEntry[] = [];
  const emergencyActions: EmergencyActionEntry[] = [];
  const siblingDecisions: FollowOnState['siblingDecisions'] = [];
  const specialistAssessments: SpecialistAssessmentEntry[] = [];
  let accommodationRoute: string | undefined;
  const circulation: FollowOnState['circulation'] = [];
  /** pre-birth steps after completion. */
  const preBirth: FollowOnState['preBirth'] = { applies: ctx.preBirth };

  /** the birth, or an event that could change the conclusion, after completion: update the assessment or not. */
  const preBirthChange = (atMs: number) => {
    if (!enabled || !ctx.preBirth || ctx.stage() !== 'completed') return;
    const prompt = engine.raisePrompt('pre-birth-update', 'R-47');
    outbound.notify('manager', 'pre-birth-update-decision', 'R-47', { promptId: prompt.promptId });
    engine.log({ source: 'engine', type: 'pre-birth-change', status: 'applied', rule: 'R-47', reason: new Date(atMs).toISOString() });
  };

  const policy = () => ctx.caseContext().policy;
  const calendar = () => ctx.caseContext().calendar;
  const heldOrRunning = () => ctx.strategyDiscussions().some((entry) => entry.status !== 'failed');
  const safety = createSafetyPlanning({ engine, outbound, policy, calendar, startStrategyDiscussion: ctx.startStrategyDiscussion });
  const plan = createAssessmentPlan({ engine, outbound, policy, calendar, inProgress: () => ctx.stage() === 'in-progress' || ctx.stage() === 'awaiting-sign-off' });
  /** a change of circumstances (only in cases since the change). */
  const circumstancesChanged = (trigger: PlanReviewTrigger, atMs: number) => {
    if (enabled) plan.circumstancesChanged(trigger, atMs);
  };

  // ---- specialist assessments ----

  const remindWhileAwaited = (entry: SpecialistAssessmentEntry) => {
    engine.setDeadline(`specialist-reminder:${entry.requestRef}`, addWorkingDays(calendar(), Date.now(), policy().awaitingReminderWorkingDays ?? 20), () => {
      if (entry.status !== 'awaiting') return;
      outbound.notify('manager', 'specialist-assessment-awaited', 'R-45', { target: entry.requestRef });
      remindWhileAwaited(entry);
    });
  };

  const track = (request: SpecialistAssessmentRequest, requestedAtMs: number, requestedBy: SpecialistAssessmentEntry['requestedBy']) => {
    const entry: SpecialistAssessmentEntry = { ...request, requestedAt: new Date(requestedAtMs).toISOString(), requestedBy, status: 'awaiting' };
    specialistAssessments.push(entry);
    const days = policy().specialistAssessmentResultWorkingDays;
    if (days !== undefined) {
      const dueAt = addWorkingDays(calendar(), requestedAtMs, days);
      entry.resultDueAt = new Date(dueAt).toISOString();
      engine.setDeadline(`specialist-result:${entry.requestRef}`, dueAt, () => {
        if (entry.status !== 'awaiting') return;
        const escalation = engine.raisePrompt('escalation', 'R-45', { about: `specialist-result:${entry.requestRef}` });
        outbound.notify('manager', 'specialist-assessment-result-overdue', 'R-45', { promptId: escalation.promptId, target: entry.requestRef });
      });
    } else {
      // No time in the policy: listed as awaiting, and brought back to the manager while it is.
      remindWhileAwaited(entry);
    }
    outbound.caseRecord('specialist-assessment-requested', { requestRef: entry.requestRef, kind: entry.kind, requestedAt: entry.requestedAt, resultDueAt: entry.resultDueAt });
  };

  const receiveResult = (event: Extract<DomainEvent, { type: 'specialist-assessment-result-received' }>) => {
    const entry = specialistAssessments.find((candidate) => candidate.requestRef === event.requestRef)!;
    entry.status = 'received';
    entry.resultReceivedAt = event.occurredAt;
    engine.clearDeadline(`specialist-result:${entry.requestRef}`);
    engine.clearDeadline(`specialist-reminder:${entry.requestRef}`);
    engine.withdrawPrompts('escalation', 'the result arrived', `specialist-result:${entry.requestRef}`);
    // the result is new information: on a completed assessment, the manager decides on it.
    if (ctx.stage() === 'completed') ctx.newInformation(Date.parse(event.occurredAt));
    else {
      outbound.notify('social-worker', 'specialist-assessment-result', 'R-45', { target: entry.requestRef });
      // It feeds a single plan of action (004): the plan is reviewed.
      circumstancesChanged('new-information', Date.parse(event.occurredAt));
    }
  };

  // ---- emergency protective action ----

  const askForSiblings = () => {
    for (const childRef of ctx.householdChildRefs) {
      if (childRef === ctx.childRef || siblingDecisions.some((entry) => entry.childRef === childRef && entry.decision === undefined)) continue;
      const prompt = engine.raisePrompt('sibling-decision', 'R-34', { about: childRef });
      siblingDecisions.push({ childRef, promptId: prompt.promptId });
      outbound.notify('manager', 'sibling-decision-needed', 'R-34', { promptId: prompt.promptId });
    }
  };

  const emergencyAction = (event: Extract<DomainEvent, { type: 'emergency-action-taken' }>) => {
    outbound.notify('police', 'emergency-action', 'R-34', {}, true);
    outbound.notify('manager', 'emergency-action', 'R-34', {}, true);
    const discussions = ctx.strategyDiscussions();
    const named = event.strategyDiscussionSequence !== undefined && discussions.some((entry) => entry.sequence === event.strategyDiscussionSequence && entry.status !== 'failed');
    const running = discussions.some((entry) => entry.status === 'starting' || entry.status === 'running');
    const strategyDiscussion: EmergencyActionEntry['strategyDiscussion'] = named ? 'already-held' : running ? 'already-running' : 'started';
    // It implies reasonable cause to suspect significant harm: a strategy discussion (R-13; 003).
    if (strategyDiscussion === 'started') ctx.startStrategyDiscussion('emergency-action-taken', Date.parse(event.occurredAt));
    emergencyActions.push({ eventId: event.eventId, kind: event.kind, decidedBy: event.decidedBy, occurredAt: event.occurredAt, strategyDiscussion });
    outbound.caseRecord('emergency-action', { kind: event.kind, decidedBy: event.decidedBy, occurredAt: event.occurredAt, strategyDiscussion });
    askForSiblings();
  };

  return {
    /** Whether this event type is one of the follow-on's (handled here, not by the assessment's stage rules). */
    owns(type: DomainEvent['type']): boolean {
      // new information during the assessment is the follow-on's (after completion, the assessment's own R-25).
      if (type === 'new-information') return enabled && (ctx.stage() === 'in-progress' || ctx.stage() === 'awaiting-sign-off');
      return OWN_EVENTS.has(type);
    },

    /** new information after completion that gives cause to suspect significant harm starts a strategy discussion at once. */
    onNewInformationAfterCompletion(event: Extract<DomainEvent, { type: 'new-information' }>): void {
      if (enabled && event.significantHarmSuspected) ctx.startStrategyDiscussion('new-information-significant-harm', Date.parse(event.occurredAt));
    },

    /** Why this event of the follow-on's cannot be taken now, or undefined. */
    refuseEvent(event: DomainEvent): { rejected: string; rule?: string } | undefined {
      if (!enabled) return { rejected: `${event.type} does not fit an assessment started before outcomes had follow-ons` };
      switch (event.type) {
        case 'emergency-action-taken':
        case 'immediate-safety-concern':
        case 'new-information':
          return undefined;
        case 'outcome-discussed': {
          if (ctx.stage() !== 'completed') return { rejected: 'R-24: the outcome is discussed once the assessment is signed off', rule: 'R-24' };
          const entry = circulation.find((candidate) => candidate.what === 'outcome-discussion' && candidate.recipient === event.with);
          return entry?.status === 'awaited' ? undefined : { rejected: `R-24: no discussion of the outcome with the ${event.with} is awaited`, rule: 'R-24' };
        }
        case 'child-born':
          if (!ctx.preBirth) return { rejected: 'R-47: the child was born before the referral (no expected delivery date)', rule: 'R-47' };
          return preBirth.bornAt === undefined ? undefined : { rejected: 'R-47: the birth is already recorded', rule: 'R-47' };
        case 'assessment-plan-recorded':
        case 'assessment-plan-action-done': {
          const refusal = plan.refuse(event);
          return refusal ? { rejected: refusal, rule: 'R-31' } : undefined;
        }
        case 'specialist-assessment-requested':
          if (ctx.stage() === 'completed') return { rejected: 'the assessment is completed: a specialist assessment after it is a decision on new information (R-25)', rule: 'R-45' };
          if (specialistAssessments.some((entry) => entry.requestRef === event.requestRef)) return { rejected: `specialist assessment ${event.requestRef} is already requested`, rule: 'R-45' };
          return undefined;
        case 'specialist-assessment-result-received': {
          const entry = specialistAssessments.find((candidate) => candidate.requestRef === event.requestRef);
          if (!entry) return { rejected: `no specialist assessment ${event.requestRef} was requested`, rule: 'R-45' };
          return entry.status === 'awaiting' ? undefined : { rejected: `the result of ${event.requestRef} has already arrived`, rule: 'R-45' };
        }
        default:
          return { rejected: `a ${event.type} event goes to the child in need plan's workflow, not the assessment`, rule: 'R-44' };
      }
    },

    onEvent(event: DomainEvent): EventVerdict {
      switch (event.type) {
        case 'emergency-action-taken':
          emergencyAction(event);
          circumstancesChanged('emergency-action', Date.parse(event.occurredAt));
          return { rule: 'R-34' };
        case 'immediate-safety-concern':
          safety.onConcern(event);
          circumstancesChanged('immediate-safety-concern', Date.parse(event.occurredAt));
          return { rule: 'R-33' };
        case 'assessment-plan-recorded':
          plan.onPlan(event);
          return { rule: 'R-31' };
        case 'new-information': {
          // R-25 during the assessment: the manager decides what it changes; R-13 at once where it gives cause.
          const atMs = Date.parse(event.occurredAt);
          if (event.significantHarmSuspected) ctx.startStrategyDiscussion('new-information-significant-harm', atMs);
          const prompt = engine.raisePrompt('new-information-review', 'R-25');
          outbound.notify('manager', 'new-information', 'R-25', { promptId: prompt.promptId });
          circumstancesChanged('new-information', atMs);
          return { rule: 'R-25' };
        }
        case 'outcome-discussed': {
          const entry = circulation.find((candidate) => candidate.what === 'outcome-discussion' && candidate.recipient === event.with)!;
          Object.assign(entry, { status: 'done', at: event.occurredAt });
          return { rule: 'R-24' };
        }
        case 'child-born':
          preBirth.bornAt = event.occurredAt;
          outbound.caseRecord('child-born', { bornAt: event.occurredAt });
          if (ctx.stage() === 'completed') preBirthChange(Date.parse(event.occurredAt));
          else outbound.notify('social-worker', 'child-born', 'R-47');
          return { rule: 'R-47' };
        case 'assessment-plan-action-done':
          plan.onActionDone(event);
          return { rule: 'R-31' };
        case 'specialist-assessment-requested':
          track({ requestRef: event.requestRef, kind: event.kind, provider: event.provider }, Date.parse(event.occurredAt), 'event');
          return { rule: 'R-45' };
        case 'specialist-assessment-result-received':
          receiveResult(event);
          return { rule: 'R-45' };
        default:
          return { rejected: `${event.type} does not fit an assessment` };
      }
    },

    /** why this sign-off cannot be taken, or undefined. Older cases keep their checks. */
    signOffRefusal(decision: SignOffDecision): string | undefined {
      return enabled ? outcomeRefusal(decision, Date.now()) : undefined;
    },

    /** what the signed-off outcome starts. */
    onSignOff(decision: SignOffDecision): void {
      if (!enabled) return;
      const decidedAtMs = Date.parse(decision.decidedAt);
      if (needsStrategyDiscussion(decision, heldOrRunning())) ctx.startStrategyDiscussion('significant-harm-at-sign-off', decidedAtMs);
      if (decision.outcome === 'child-in-need-plan' && decision.childInNeedPlan) {
        startChildInNeedPlan(
          engine,
          outbound,
          { ...ctx.caseContext(), childRef: ctx.childRef, origin: { kind: 'assessment' }, startedAt: decision.decidedAt, decidedBy: decision.decidedBy, plan: decision.childInNeedPlan as ChildInNeedPlan },
          childInNeedPlans,
        );
      }
      if (decision.outcome === 'specialist-assessment' && decision.specialistAssessment) track(decision.specialistAssessment, decidedAtMs, 'sign-off');
      if (decision.outcome === 'emergency-action') askForSiblings();
      // R-24 (as extended): a copy of the assessment to the family and the participants; the outcome discussed with child and family.
      const withheld = decision.withholdFromFamily === true ? "the manager's decision: sharing would put the child at risk or jeopardise an enquiry" : ctx.familyDeclined() ? 'the family declined to engage (R-17)' : undefined;
      const copy = (recipient: string, target?: string) => {
        circulation.push({ recipient, what: 'assessment-copy', status: 'sent', ...(target ? { target } : {}), at: decision.decidedAt });
        outbound.notify(recipient === 'participant' ? 'agency' : (recipient as 'family' | 'child'), 'assessment-copy', 'R-24', target ? { target } : {});
      };
      const except = (recipient: string, what: 'assessment-copy' | 'outcome-discussion', reason: string) => circulation.push({ recipient, what, status: 'excepted', reason });
      if (withheld) except('family', 'assessment-copy', withheld);
      else copy('family');
      if (withheld) except('child', 'assessment-copy', withheld);
      else if (ctx.childReceivesOutcome(decidedAtMs)) copy('child');
      else except('child', 'assessment-copy', 'the child is under 12 or of unknown age');
      for (const agency of [...new Set(ctx.contributingAgencies())]) copy('participant', agency);
      for (const recipient of ['child', 'family']) {
        if (withheld) except(recipient, 'outcome-discussion', withheld);
        else circulation.push({ recipient, what: 'outcome-discussion', status: 'awaited' });
      }
      // a pre-birth assessment is disclosed to the parents (and their solicitor, if instructed).
      if (ctx.preBirth) {
        const days = policy().preBirthDisclosureWorkingDays;
        const dueBy = days === undefined ? undefined : addWorkingDays(calendar(), decidedAtMs, days);
        if (dueBy !== undefined) preBirth.disclosureDueAt = new Date(dueBy).toISOString();
        const prompt = engine.raisePrompt('pre-birth-disclosure', 'R-47', dueBy === undefined ? {} : { dueBy });
        outbound.notify('manager', 'pre-birth-disclosure-needed', 'R-47', { promptId: prompt.promptId });
      }
      if (decision.determinations.accommodationNeeded) {
        const prompt = engine.raisePrompt('accommodation-route', 'R-43');
        outbound.notify('manager', 'accommodation-route-needed', 'R-43', { promptId: prompt.promptId });
      }
    },

    /** The follow-on's own prompts; false when the prompt is not one of them. */
    /** Checks of the follow-on's own decisions against the case (R-33: a period that ends in the future). */
    validateDecision(prompt: Prompt, decision: AnyDecision): string | undefined {
      return safety.validateDecision(prompt, decision) ?? plan.validateDecision(prompt, decision);
    },

    /** the assessment was allocated (the plan is due from then, where the policy says when). */
    onAllocated(allocatedAtMs: number): void {
      if (enabled) plan.onAllocated(allocatedAtMs);
    },

    /** the assessment saw a change of circumstances (significant harm suspected, a strategy discussion's outcome). */
    circumstancesChanged,

    /** new information after completion on a pre-birth assessment also asks whether to update it. */
    preBirthChange,

    onDecision(prompt: Prompt, decision: AnyDecision): boolean {
      if (safety.onDecision(prompt, decision) || plan.onDecision(prompt, decision)) return true;
      if (prompt.kind === 'new-information-review') {
        const atMs = Date.parse(decision.decidedAt);
        if (decision.decision === 'strategy-discussion') ctx.startStrategyDiscussion('new-information', atMs);
        if (decision.decision === 'specialist-assessment') {
          const request = (decision as Extract<DecisionFor<'new-information-review'>, { decision: 'specialist-assessment' }>).specialistAssessment;
          if (specialistAssessments.some((entry) => entry.requestRef === request.requestRef)) engine.log({ source: 'engine', type: 'specialist-assessment-already-requested', ref: request.requestRef, status: 'applied', rule: 'R-45' });
          else track(request, atMs, 'event');
        }
        outbound.caseRecord('new-information-decision', { decision: decision.decision, decidedBy: decision.decidedBy, decidedAt: decision.decidedAt });
        return true;
      }
      if (prompt.kind === 'pre-birth-disclosure') {
        preBirth.disclosure = decision.decision;
        if (decision.decision === 'disclosed') preBirth.solicitorInstructed = (decision as { solicitorInstructed?: boolean }).solicitorInstructed;
        outbound.caseRecord('pre-birth-disclosure', { decision: decision.decision, solicitorInstructed: preBirth.solicitorInstructed, decidedAt: decision.decidedAt });
        return true;
      }
      if (prompt.kind === 'pre-birth-update') {
        (preBirth.updateDecisions ??= []).push(decision.decision);
        if (decision.decision === 'update-assessment') outbound.notify('social-worker', 'pre-birth-assessment-update', 'R-47', { promptId: prompt.promptId });
        return true;
      }
      if (prompt.kind === 'sibling-decision') {
        const entry = siblingDecisions.find((candidate) => candidate.promptId === prompt.promptId);
        if (entry) entry.decision = decision.decision;
        outbound.caseRecord('sibling-decision', { childRef: prompt.about, decision: decision.decision, decidedBy: decision.decidedBy, decidedAt: decision.decidedAt });
        return true;
      }
      if (prompt.kind === 'accommodation-route') {
        accommodationRoute = decision.decision;
        outbound.caseRecord('care-plan-required', { route: decision.decision, decidedBy: decision.decidedBy, decidedAt: decision.decidedAt });
        outbound.notify('manager', 'care-plan-required', 'R-43', { promptId: prompt.promptId });
        return true;
      }
      return false;
    },

    /** The case stays open while a specialist assessment's result is awaited or a plan is starting. */
    keepsOpen(): boolean {
      return specialistAssessments.some((entry) => entry.status === 'awaiting') || childInNeedPlans.some((entry) => entry.status === 'starting');
    },

    state(): FollowOnState {
      const awaiting: AwaitingStep[] = specialistAssessments
        .filter((entry) => entry.status === 'awaiting' && entry.resultDueAt === undefined)
        .map((entry) => ({ step: 'specialist-assessment-result', rule: 'R-45', ref: entry.requestRef, since: entry.requestedAt, reason: 'the policy sets no time for the result (specialistAssessmentResultWorkingDays)' }));
      if (safety.awaitingWithoutTime()) {
        awaiting.push({ step: 'safety-planning-meeting', rule: 'R-33', since: safety.state().concernAt!, reason: 'the policy sets no time for the meeting (safetyPlanningMeetingWorkingDays)' });
      }
      for (const step of plan.awaiting()) awaiting.push({ ...step, since: engine.now() });
      if (ctx.preBirth && preBirth.disclosureDueAt === undefined && engine.openPrompt('pre-birth-disclosure')) {
        awaiting.push({ step: 'pre-birth-disclosure', rule: 'R-47', since: engine.openPrompt('pre-birth-disclosure')!.raisedAt, reason: 'the policy sets no time for the disclosure (preBirthDisclosureWorkingDays)' });
      }
      return { childInNeedPlans, emergencyActions, siblingDecisions, specialistAssessments, accommodationRoute, assessmentPlan: plan.state(), safetyPlanning: safety.state(), preBirth, circulation, awaiting };
    },
  };
}

export type OutcomeFollowOn = ReturnType<typeof createOutcomeFollowOn>;
