/**
 * A child in need plan, started by an assessment signed off with the outcome "child
 * in need plan" or by a section 47 enquiry's "child in need plan" outcome. It
 * outlives what started it (ParentClosePolicy.ABANDON). Each review date is a deadline that
 * prompts the plan's manager; the agencies providing services that have not yet been sent the
 * plan in writing are listed; each action point is due by its date; a review closes the plan
 * (with the CIN census reason for closure) or steps it up to child protection.
 */
import { planAgencies, type ChildInNeedPlanInput, type ChildInNeedPlanResult } from '../domain/child-in-need-plan';
import type { DomainEvent } from '../domain/events';
import { childInNeedPlanWorkflowId } from '../domain/ids';
import type { AnyDecision, DecisionFor, Prompt } from '../domain/prompts';
import type { RecordEntry } from '../domain/record';
import { continueAsNew } from '@temporalio/workflow';
import { CaseEngine, type EngineCarryOver, type EventVerdict, type PendingDeadline } from './engine';
import { createOutbound } from './outbound';
import { applyPromptTiming } from './prompt-timing';
import { CompletedAtKey, LocalAuthorityKey, ManagerIdKey, OverdueKey, ReferralIdKey, StageKey, TeamKey, TrackKey } from './search-attributes';

export { childInNeedPlanWorkflowId };

/** The workflow type, as a parent starts it by name. */
export const CHILD_IN_NEED_PLAN_WORKFLOW_TYPE = 'childInNeedPlanWorkflow';

export type ChildInNeedPlanStage = 'open' | 'closed' | 'stepped-up';

export interface PlanReview {
  /** When the review is due (a plan's review date, a date set at a review, or when one was asked for). */
  dueAt: string;
  status: 'scheduled' | 'due' | 'held';
  promptId?: string;
  heldAt?: string;
  decision?: string;
}

export interface ChildInNeedPlanState {
  workflowId: string;
  referralId: string;
  childRef: string;
  origin: ChildInNeedPlanInput['origin'];
  stage: ChildInNeedPlanStage;
  startedAt: string;
  planManagerId: string;
  /** The plan as signed off (case content: the state is read through the API, never a search attribute). */
  plan: ChildInNeedPlanInput['plan'];
  reviews: PlanReview[];
  nextReviewAt?: string;
  /** each agency providing services, sent the plan in writing or not yet. */
  agencies: Array<{ agencyRef: string; sentAt?: string }>;
  agenciesNotSent: string[];
  /** Action points whose date has passed (the plan's manager is told). */
  actionsDue: string[];
  overdue: boolean;
  /** For the CIN census: when and why the plan closed. */
  closedAt?: string;
  reasonForClosure?: ChildInNeedPlanResult['reasonForClosure'];
  steppedUpTo?: string;
  deadlines: PendingDeadline[];
  prompts: Prompt[];
  openPrompts: Prompt[];
  record: RecordEntry[];
  recordEntriesInEarlierRuns?: number;
}

type ReviewDecision = DecisionFor<'cin-plan-review'>;

/** What an open plan's run hands to the run it continues as (issue 13): the engine's part and the plan's. */
export interface ChildInNeedPlanCarryOver {
  engine: EngineCarryOver;
  reviews: PlanReview[];
  agencies: ChildInNeedPlanState['agencies'];
  actionsDue: string[];
}

export async function childInNeedPlanWorkflow(input: ChildInNeedPlanInput): Promise<ChildInNeedPlanResult> {
  const continued = input.continued as ChildInNeedPlanCarryOver | undefined;
  const engine = new CaseEngine({
    idScheme: input.idScheme,
    carriedOver: continued?.engine,
    continueAsNewAt: input.continueAsNewAtHistoryEvents === undefined ? undefined : { historyEvents: input.continueAsNewAtHistoryEvents },
    carryOverLimits: input.carryOverLimits,
  });
  const outbound = createOutbound(engine, { referralId: input.referralId, childRef: input.childRef });
  const { policy, calendar, plan } = input;
  const iso = (ms: number) => new Date(ms).toISOString();
  applyPromptTiming(engine, calendar, policy, outbound);
  engine.setDecisionsNotBefore(Date.parse(input.startedAt));

  // A plan continues as new only while open.
  let stage: ChildInNeedPlanStage = 'open';
  let closedAt: string | undefined;
  let reasonForClosure: ChildInNeedPlanResult['reasonForClosure'];
  let steppedUpTo: string | undefined;
  const reviews: PlanReview[] =
    continued?.reviews ??
    [...new Set(plan.reviewDates)]
      .map((date) => Date.parse(date))
      .sort((a, b) => a - b)
      .map((at) => ({ dueAt: iso(at), status: 'scheduled' as const }));
  const agencies: ChildInNeedPlanState['agencies'] = continued?.agencies ?? planAgencies(plan).map((agencyRef) => ({ agencyRef }));
  const actionsDue: string[] = continued?.actionsDue ?? [];

  const nextScheduled = () =>
    reviews.filter((review) => review.status === 'scheduled').sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt))[0];
  const openReview = () => engine.openPrompt('cin-plan-review');

  /** A review falls due: the plan's manager is asked (the prompt is due within the policy's response time, then escalates). */
  const reviewDue = (review: PlanReview) => {
    if (stage !== 'open') return;
    review.status = 'due';
    const prompt = engine.raisePrompt('cin-plan-review', 'R-44', { about: 'review' });
    review.promptId = prompt.promptId;
    outbound.notify('manager', 'cin-plan-review-due', 'R-44', { promptId: prompt.promptId, target: input.plan.planManagerId });
  };

  /** Each scheduled review is a deadline of its own (named by its position, opaque). */
  const scheduleReview = (review: PlanReview) => {
    engine.setDeadline(`cin-plan-review:${reviews.indexOf(review) + 1}`, Date.parse(review.dueAt), () => {
      if (review.status !== 'scheduled') return;
      // A review already open (asked for early) covers this date.
      if (openReview()) {
        review.status = 'held';
        return;
      }
      reviewDue(review);
    });
  };

  const addReview = (atMs: number): PlanReview => {
    const review: PlanReview = { dueAt: iso(atMs), status: 'scheduled' };
    reviews.push(review);
    scheduleReview(review);
    return review;
  };

  const end = (to: ChildInNeedPlanStage, at: string) => {
    stage = to;
    closedAt = at;
    for (const [index, review] of reviews.entries()) {
      if (review.status === 'scheduled') engine.clearDeadline(`cin-plan-review:${index + 1}`);
    }
    for (const action of plan.actions) engine.clearDeadline(`cin-plan-action:${action.actionRef}`);
    for (const prompt of engine.openPrompts()) engine.withdrawPrompts(prompt.kind, `the plan is ${to}`);
  };

  const state = (): ChildInNeedPlanState => ({
    workflowId: engine.workflowId,
    referralId: input.referralId,
    childRef: input.childRef,
    origin: input.origin,
    stage,
    startedAt: input.startedAt,
    planManagerId: plan.planManagerId,
    plan,
    reviews,
    nextReviewAt: nextScheduled()?.dueAt,
    agencies,
    agenciesNotSent: agencies.filter((agency) => agency.sentAt === undefined).map((agency) => agency.agencyRef),
    actionsDue,
    overdue: engine.openPrompts().some((prompt) => prompt.overdue === true),
    closedAt,
    reasonForClosure,
    steppedUpTo,
    deadlines: engine.pendingDeadlines(),
    prompts: engine.prompts,
    openPrompts: engine.openPrompts(),
    record: engine.record,
    // Entries older than the record above, left in earlier runs' histories when the plan continued as new.
    ...(engine.recordEntriesInEarlierRuns > 0 ? { recordEntriesInEarlierRuns: engine.recordEntriesInEarlierRuns } : {}),
  });

  const refuseEvent = (event: DomainEvent): { rejected: string; rule?: string } | undefined => {
    if (stage !== 'open') return { rejected: `the child in need plan is ${stage}`, rule: 'R-44' };
    if (event.type === 'cin-plan-sent') {
      return agencies.some((agency) => agency.agencyRef === event.agencyRef) ? undefined : { rejected: `agency ${event.agencyRef} provides no service in this plan`, rule: 'R-44' };
    }
    if (event.type === 'cin-plan-review-requested') return undefined;
    return { rejected: `a ${event.type} event belongs to the child's assessment, not the child in need plan` };
  };

  // The plan's deadlines, before its handlers: a message that reached the run before its
  // code did is handled once they exist. A continued run sets again those still pending:
  // reviews still scheduled, actions not yet due.
  for (const review of reviews) if (review.status === 'scheduled') scheduleReview(review);
  // A past review date (a plan from a migrated case) falls due at once: the engine fires it now.
  for (const action of plan.actions) {
    if (actionsDue.includes(action.actionRef)) continue;
    engine.setDeadline(`cin-plan-action:${action.actionRef}`, Date.parse(action.dueBy), () => {
      actionsDue.push(action.actionRef);
      outbound.notify('manager', 'cin-plan-action-due', 'R-44', { target: action.actionRef });
    });
  }

  engine.installHandlers({
    refuseEvent,
    onEvent(event: DomainEvent): EventVerdict {
      const refusal = refuseEvent(event);
      if (refusal) return refusal;
      if (event.type === 'cin-plan-sent') {
        const agency = agencies.find((candidate) => candidate.agencyRef === event.agencyRef)!;
        agency.sentAt ??= event.occurredAt;
        return { rule: 'R-44' };
      }
      // A review asked for before its date: due now (one open at a time).
      if (!openReview()) {
        const review: PlanReview = { dueAt: event.occurredAt, status: 'scheduled' };
        reviews.push(review);
        reviewDue(review);
      }
      return { rule: 'R-44' };
    },
    validateDecision(prompt: Prompt, decision: AnyDecision) {
      if (prompt.kind !== 'cin-plan-review') return undefined;
      const answer = decision as ReviewDecision;
      if (answer.decision !== 'continue') return undefined;
      const next = answer.nextReviewAt === undefined ? undefined : Date.parse(answer.nextReviewAt);
      if (next !== undefined && next <= Date.now()) return 'R-44: the next review date must lie ahead';
      // An open plan always has a next review: when the plan's own dates are used up, the review sets one.
      if (next === undefined && !nextScheduled()) return 'R-44: no review date of the plan is left: give the next one (nextReviewAt)';
      return undefined;
    },
    onDecision(prompt: Prompt, decision: AnyDecision) {
      if (prompt.kind !== 'cin-plan-review') return;
      const answer = decision as ReviewDecision;
      const review = reviews.find((candidate) => candidate.promptId === prompt.promptId);
      if (review) Object.assign(review, { status: 'held', heldAt: answer.decidedAt, decision: answer.decision });
      outbound.caseRecord('cin-plan-review', { decision: answer.decision, heldAt: answer.decidedAt, decidedBy: answer.decidedBy });
      if (answer.decision === 'continue') {
        if (answer.nextReviewAt !== undefined) addReview(Date.parse(answer.nextReviewAt));
        return;
      }
      if (answer.decision === 'close') {
        reasonForClosure = answer.reasonForClosure;
        end('closed', answer.decidedAt);
        outbound.caseRecord('cin-plan-closed', { closedAt, reasonForClosure });
        return;
      }
      steppedUpTo = answer.route;
      end('stepped-up', answer.decidedAt);
      // Child protection takes over: the manager acts at once (a strategy discussion, R-13; or a conference).
      outbound.notify('manager', `cin-plan-stepped-up-${answer.route}`, 'R-44', { promptId: prompt.promptId }, true);
      outbound.caseRecord('cin-plan-stepped-up', { route: answer.route, steppedUpAt: closedAt });
    },
    state,
    searchAttributes: () => [
      { key: StageKey, value: `cin-plan-${stage}` },
      { key: TrackKey, value: 'S17' },
      { key: ReferralIdKey, value: input.referralId },
      { key: OverdueKey, value: stage === 'open' && engine.openPrompts().some((prompt) => prompt.overdue === true) },
      ...(input.team ? [{ key: TeamKey, value: input.team }] : []),
      ...(input.managerId ? [{ key: ManagerIdKey, value: input.managerId }] : []),
      ...(input.localAuthority ? [{ key: LocalAuthorityKey, value: input.localAuthority }] : []),
      ...(closedAt !== undefined ? [{ key: CompletedAtKey, value: new Date(closedAt) }] : []),
    ],
  });

  if (!continued) {
    // the handover to the service holding the plan; R-44: the plan goes in writing to each agency.
    outbound.caseRecord('cin-plan-started', {
      origin: input.origin,
      startedAt: input.startedAt,
      decidedBy: input.decidedBy,
      planManagerId: plan.planManagerId,
      reviewDates: reviews.map((review) => review.dueAt),
      agenciesToSend: agencies.map((agency) => agency.agencyRef),
    });
    outbound.notify('manager', 'cin-plan-started', 'R-43', { target: plan.planManagerId });
  }
  await engine.run(() => stage !== 'open', {
    // A plan lasts months or years (a review every few months): its run hands over before its history grows long.
    continueAsNew: (carriedOver) =>
      continueAsNew<typeof childInNeedPlanWorkflow>({ ...input, continued: { engine: carriedOver, reviews, agencies, actionsDue } satisfies ChildInNeedPlanCarryOver }),
  });
  return { status: (stage as ChildInNeedPlanStage) === 'closed' ? 'closed' : 'stepped-up', closedAt: closedAt!, ...(reasonForClosure ? { reasonForClosure } : {}) };
}
