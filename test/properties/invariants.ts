/**
 * The deadline invariants of issue 9, as pure checks over what the workflows of one case
 * answer to their `state` query. They are written against the contract the engine is
 * being brought to (every state lists its pending `deadlines`; every open prompt has a
 * `dueBy`; a firing deadline writes `{ type: 'deadline-passed', reason, dueAt, at }`; the
 * assessment has `completionDueAt` from the start, `allocationDueAt` and
 * `overdue.allocation`): a field that is missing is a violation, named, never a crash.
 */
import { defaultPolicy, type AuthorityPolicy } from '../../domain/policy';
import type { Prompt } from '../../domain/prompts';
import type { RecordEntry } from '../../domain/record';
import { addWorkingDaysIndependent, londonEndOfDay, londonMidnightMs } from '../support/independent-calendar';
import { HOUR_MS, type ResolvedChild } from './case-model';

/** How late a deadline may fire, in workflow time. */
export const TOLERANCE_MS = 60_000;
/** Slack for instants written by different workflow tasks. */
const EPSILON_MS = 1_000;

export const invariantNames = {
  'I1-next-deadline': 'every open assessment has a next deadline (and its statutory completion date)',
  'I1-prompt-due': 'every open prompt has a due time (dueBy)',
  'I1-deadlines-listed': "every workflow's state lists its pending deadlines (contract: state.deadlines)",
  'I2-pending-past-due': 'no pending deadline is more than the tolerance past its due time',
  'I2-fired-late': 'no deadline fires later than its due time plus the tolerance (deadline-passed: at - dueAt)',
  'I2-escalated-late': 'a prompt past its due time is escalated within the tolerance',
  'I3-moved-later': 'a repeated or late message never moves a deadline or a due time later',
  'I4-working-days': 'every deadline the engine sets equals the independent working-day count',
  'I5-overdue-flag': 'overdue flags agree with the state (true iff the deadline passed unmet)',
  'I6-refused-event': 'a refused event is rejected (event-refused) and does not use up its eventId',
  'I0-query': "the workflows of the case answer their state query",
} as const;
export type InvariantName = keyof typeof invariantNames;

export interface Violation {
  invariant: InvariantName;
  /** A field of the contract is missing (as opposed to a value that is wrong). */
  missing?: boolean;
  workflowId: string;
  /** What exactly (stable across steps, for de-duplication). */
  what: string;
  /** Times and values, for the report. */
  detail: string;
}

export type WorkflowKind = 'referral' | 'assessment' | 'strategy' | 's47';

type Deadlines = Array<{ name: string; dueAt: string }>;
interface CommonState {
  workflowId: string;
  stage: string;
  prompts: Prompt[];
  openPrompts: Prompt[];
  record: RecordEntry[];
  deadlines?: Deadlines;
}
export interface ReferralView extends CommonState {
  receivedAt: string;
  childProtectionConcern: boolean;
  dutyDecisionDueAt?: string;
  dutyDecisionOverdue?: boolean;
  dutyDecision?: { decision: string; decidedAt: string };
  assessments: Array<{ childRef: string; workflowId: string; status: string }>;
  policy?: AuthorityPolicy;
}
export interface AssessmentView extends CommonState {
  childRef: string;
  track: string;
  receivedAt: string;
  allocatedAt?: string;
  timescaleWorkingDays?: number;
  visitDueAt?: string;
  originalVisitDueAt?: string;
  childSeenAt?: string;
  childNotToBeSeen?: boolean;
  supervisionReviewDueAt?: string;
  completionDueAt?: string;
  normalCompletionDueAt?: string;
  preBirthCompletionDueAt?: string;
  allocationDueAt?: string;
  completedAt?: string;
  overdue?: Partial<Record<'visit' | 'completion' | 'supervisionReview' | 'allocation', boolean>>;
  evidence?: { childSeen: Array<{ eventId: string; occurredAt: string; immediateConcerns: boolean }> };
  strategyDiscussions: Array<{ sequence: number; workflowId: string; section47WorkflowId: string; calledAt: string; cause: string; status: string }>;
  decisions: Array<{ kind: string; decision: string; decidedAt: string }>;
  /** Section 9's follow-on (cases since the outcomes-follow-on change). */
  followOn?: FollowOnView;
}
/** What the assessment shows of its plan, safety planning, specialist assessments and plans started (workflows/assessment-outcomes.ts). */
export interface FollowOnView {
  childInNeedPlans: Array<{ workflowId: string; status: string }>;
  specialistAssessments: Array<{ requestRef: string; requestedAt: string; status: 'awaiting' | 'received'; resultDueAt?: string }>;
  assessmentPlan: {
    versions: Array<{ version: number }>;
    dueAt?: string;
    overdue: boolean;
    actions: Array<{ actionRef: string; dueBy: string; done: boolean; overdue: boolean }>;
  };
  safetyPlanning: { status: string; concernAt?: string; meetingDueAt?: string; plans: Array<{ agreedUntil: string }> };
  awaiting: Array<{ step: string; ref?: string }>;
}
export interface ChildInNeedPlanView extends CommonState {
  childRef: string;
  stage: 'open' | 'closed' | 'stepped-up';
  reviews: Array<{ dueAt: string; status: 'scheduled' | 'due' | 'held'; promptId?: string }>;
  nextReviewAt?: string;
  agenciesNotSent: string[];
  plan: { actions: Array<{ actionRef: string; dueBy: string }> };
  actionsDue: string[];
}
export interface StrategyView extends CommonState {
  childRef: string;
  sequence: number;
  calledAt: string;
  discussionDueAt: string;
  overdue: boolean;
  heldAt?: string;
  section47WorkflowId?: string;
}
export interface Section47View extends CommonState {
  childRef: string;
  sequence: number;
  startedAt: string;
  initialStrategyDiscussionAt: string;
  childSeenDueAt: string;
  childSeenAt?: string;
  conferenceDueAt?: string;
  overdue: { childSeen: boolean; conference: boolean };
  childInNeedPlan?: { workflowId: string; status: string };
}

export type WorkflowView =
  | { kind: 'referral'; workflowId: string; state: ReferralView }
  | { kind: 'assessment'; workflowId: string; state: AssessmentView }
  | { kind: 'strategy'; workflowId: string; state: StrategyView }
  | { kind: 's47'; workflowId: string; state: Section47View }
  | { kind: 'cin-plan'; workflowId: string; state: ChildInNeedPlanView };

export interface Observation {
  /** Workflow time read before the queries and after them. */
  beforeMs: number;
  afterMs: number;
  views: WorkflowView[];
  /** Workflows whose state query failed (a running workflow must answer). */
  queryErrors: Array<{ workflowId: string; error: string }>;
}

/** What the driver knows that the states do not say, to compute the expected dues independently. */
export interface CaseFacts {
  referralId: string;
  receivedAtMs: number;
  childProtectionConcern: boolean;
  children: ResolvedChild[];
  policy: AuthorityPolicy;
  /** Workflow time at the start of each step (a deadline set by a step may be due already). */
  stepStarts: number[];
  /** Per child: the allocation as decided, and whether a strategy discussion was running then. */
  allocations: Map<string, { decidedAtMs: number; track: string; strategyRunning: boolean }>;
  /** What may call a strategy discussion, with the time it carries. */
  strategyTriggers: Array<{ childRef: string; cause: string; atMs: number }>;
  /** Children whose completion date a manager moved (exceed-timescale approved). */
  completionMovedByManager: Set<string>;
}

export function newFacts(referralId: string, receivedAtMs: number, childProtectionConcern: boolean, children: ResolvedChild[]): CaseFacts {
  return {
    referralId,
    receivedAtMs,
    childProtectionConcern,
    children,
    policy: defaultPolicy,
    stepStarts: [],
    allocations: new Map(),
    strategyTriggers: [],
    completionMovedByManager: new Set(),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (instant: string | undefined) => (instant === undefined ? undefined : Date.parse(instant));
const fmt = (msValue: number) => `${(msValue / 60_000).toFixed(1)} min`;

function stepStartBefore(facts: CaseFacts, atMs: number): number {
  let start = Number.NEGATIVE_INFINITY;
  for (const candidate of facts.stepStarts) if (candidate <= atMs + EPSILON_MS) start = Math.max(start, candidate);
  return start;
}

// ---- the checks on one observation ----

export function checkObservation(observation: Observation, facts: CaseFacts): Violation[] {
  const violations: Violation[] = [];
  for (const failure of observation.queryErrors) {
    violations.push({ invariant: 'I0-query', workflowId: failure.workflowId, what: 'state query failed', detail: failure.error });
  }
  const byId = new Map(observation.views.map((view) => [view.workflowId, view]));
  for (const view of observation.views) {
    const add: Add = (invariant, what, detail, missing) => violations.push({ invariant, workflowId: view.workflowId, what, detail, ...(missing ? { missing } : {}) });
    checkCommon(view, observation, facts, add);
    switch (view.kind) {
      case 'referral':
        checkReferral(view.state, observation, facts, add);
        break;
      case 'assessment':
        checkAssessment(view.state, observation, facts, add, byId);
        break;
      case 'strategy':
        checkStrategy(view.state, observation, facts, add, byId);
        break;
      case 's47':
        checkSection47(view.state, observation, facts, add, byId);
        break;
      case 'cin-plan':
        checkChildInNeedPlan(view.state, observation, add);
        break;
    }
  }
  return violations;
}

type Add = (invariant: InvariantName, what: string, detail: string, missing?: boolean) => void;

function workflowIsOpen(view: WorkflowView): boolean {
  switch (view.kind) {
    case 'referral':
      return view.state.stage !== 'closed';
    case 'assessment':
      return view.state.stage !== 'completed';
    case 'strategy':
      return view.state.stage !== 'concluded';
    case 's47':
      return view.state.stage !== 'concluded';
    case 'cin-plan':
      return view.state.stage === 'open';
  }
}

/** The contract's deadline list, pending-deadline freshness, open prompts' due times, and the record of fired deadlines. */
function checkCommon(view: WorkflowView, observation: Observation, facts: CaseFacts, add: Add): void {
  const state = view.state;
  const deadlines = state.deadlines;
  if (!Array.isArray(deadlines)) {
    add('I1-deadlines-listed', 'state.deadlines missing', `the ${view.kind} state has no deadlines list (stage ${state.stage})`, true);
  } else {
    for (const deadline of deadlines) {
      const due = ms(deadline?.dueAt);
      if (typeof deadline?.name !== 'string' || due === undefined || Number.isNaN(due)) {
        add('I1-deadlines-listed', 'malformed deadline entry', JSON.stringify(deadline), true);
        continue;
      }
      if (due < observation.beforeMs - TOLERANCE_MS) {
        add('I2-pending-past-due', `deadline ${deadline.name} pending past due`, `${deadline.name} due ${deadline.dueAt} still pending at ${iso(observation.beforeMs)} (${fmt(observation.beforeMs - due)} late)`);
      }
    }
  }
  if (workflowIsOpen(view)) {
    for (const prompt of state.openPrompts ?? []) {
      if (prompt.dueBy === undefined) add('I1-prompt-due', `open ${prompt.kind} prompt without dueBy`, `${prompt.promptId} raised ${prompt.raisedAt} has no dueBy`, true);
    }
  }
  let missingDueAt = 0;
  for (const entry of state.record ?? []) {
    if (entry.type !== 'deadline-passed') continue;
    const dueAt = ms((entry as RecordEntry & { dueAt?: string }).dueAt);
    if (dueAt === undefined || Number.isNaN(dueAt)) {
      missingDueAt += 1;
      continue;
    }
    const at = Date.parse(entry.at);
    const base = Math.max(dueAt, stepStartBefore(facts, at));
    if (at - base > TOLERANCE_MS) {
      add('I2-fired-late', `deadline ${entry.reason ?? '?'} due ${iso(dueAt)} fired late`, `${entry.reason ?? '?'}: due ${iso(dueAt)}, fired ${entry.at} (${fmt(at - base)} after it could have)`);
    }
    if (at < dueAt - EPSILON_MS) add('I2-fired-late', `deadline ${entry.reason ?? '?'} fired early`, `${entry.reason ?? '?'}: due ${iso(dueAt)}, fired ${entry.at}`);
  }
  if (missingDueAt > 0) add('I2-fired-late', 'deadline-passed entries without dueAt', `${missingDueAt} deadline-passed record entries carry no dueAt (contract: { reason, dueAt, at })`, true);
  checkEscalations(view, observation, facts, add);
}

/** The escalation (its `about`) that answers an overdue prompt of each kind, where the engine has one. */
function escalationAbout(view: WorkflowView, prompt: Prompt): string | undefined {
  if (prompt.kind === 'escalation') return undefined;
  switch (view.kind) {
    case 'referral':
      return prompt.kind === 'duty-decision' ? 'duty-decision' : undefined;
    case 'assessment':
      if (prompt.kind === 'duty-decision') return 'new-information';
      if (prompt.kind === 'supervision-review') return 'supervision-review';
      if (prompt.kind === 'sign-off' || prompt.kind === 'extend-to-complex' || prompt.kind === 'exceed-timescale') return 'completion';
      return undefined;
    case 'strategy':
      return prompt.kind === 'strategy-discussion-outcome' ? 'strategy-discussion' : undefined;
    case 's47':
    case 'cin-plan':
      return undefined;
  }
}

/**
 * A prompt still open past its due time has been escalated, and not later than the
 * tolerance. An escalation about the same thing raised once that due time had passed
 * counts, whenever the prompt itself was raised (a completion breach escalated before the
 * assessment was submitted covers the sign-off prompt that carries the same date).
 */
function checkEscalations(view: WorkflowView, observation: Observation, facts: CaseFacts, add: Add): void {
  const prompts = view.state.prompts ?? [];
  for (const prompt of view.state.openPrompts ?? []) {
    const about = escalationAbout(view, prompt);
    const due = ms(prompt.dueBy);
    if (about === undefined || due === undefined) continue;
    const base = Math.max(due, Date.parse(prompt.raisedAt));
    if (observation.beforeMs <= base + TOLERANCE_MS) continue;
    // A completion prompt due on the statutory date is answered by the statutory breach's
    // escalation (R-19, about 'statutory-completion') when a shorter timescale was missed first.
    const abouts = about === 'completion' ? ['completion', 'statutory-completion'] : [about];
    const covering = prompts.filter((candidate) => candidate.kind === 'escalation' && abouts.includes(candidate.about ?? '') && Date.parse(candidate.raisedAt) >= due - EPSILON_MS);
    if (covering.length === 0) {
      add('I2-escalated-late', `${prompt.kind} prompt not escalated`, `${prompt.promptId} due ${prompt.dueBy} is still open at ${iso(observation.beforeMs)} (${fmt(observation.beforeMs - base)} past due) and no ${about} escalation was raised`);
      continue;
    }
    const first = covering.reduce((a, b) => (Date.parse(a.raisedAt) <= Date.parse(b.raisedAt) ? a : b));
    const raised = Date.parse(first.raisedAt);
    const allowedFrom = Math.max(due, stepStartBefore(facts, raised));
    if (raised - allowedFrom > TOLERANCE_MS) {
      add('I2-escalated-late', `${prompt.kind} prompt escalated late`, `${prompt.promptId} due ${prompt.dueBy} escalated at ${first.raisedAt} (${fmt(raised - allowedFrom)} late)`);
    }
  }
}

/** Overdue flag: `passed unmet` ⇒ true (beyond the tolerance); true ⇒ the due time has passed and (`sticky` or not) it is unmet. */
function checkFlag(
  add: Add,
  name: string,
  flag: boolean | undefined,
  dueAt: number | undefined,
  met: boolean,
  observation: Observation,
  options: { sticky?: boolean; metAtMs?: number } = {},
): void {
  if (flag === undefined) {
    add('I5-overdue-flag', `flag ${name} missing`, `the state has no ${name} flag`, true);
    return;
  }
  if (dueAt === undefined) {
    if (flag) add('I5-overdue-flag', `${name} true without a due time`, `${name} is true but no due time is shown`);
    return;
  }
  if (!met && observation.beforeMs > dueAt + TOLERANCE_MS && !flag) {
    add('I5-overdue-flag', `${name} false past due`, `${name} is false at ${iso(observation.beforeMs)} though due ${iso(dueAt)} passed unmet (${fmt(observation.beforeMs - dueAt)} ago)`);
  }
  if (flag && dueAt > observation.afterMs + EPSILON_MS) {
    add('I5-overdue-flag', `${name} true before due`, `${name} is true at ${iso(observation.afterMs)} but due only at ${iso(dueAt)}`);
  }
  if (flag && met) {
    if (!options.sticky) add('I5-overdue-flag', `${name} true though met`, `${name} is still true after it was met (due ${iso(dueAt)})`);
    else if (options.metAtMs !== undefined && options.metAtMs < dueAt - TOLERANCE_MS) {
      add('I5-overdue-flag', `${name} true though met in time`, `${name} is true but it was met at ${iso(options.metAtMs)}, before its due time ${iso(dueAt)}`);
    }
  }
}

function expectEqual(add: Add, what: string, actual: string | undefined, expected: string, explain: string): void {
  if (actual === undefined) {
    add('I4-working-days', `${what} missing`, `${what} is not shown (expected ${expected}: ${explain})`, true);
    return;
  }
  if (Date.parse(actual) !== Date.parse(expected)) add('I4-working-days', `${what} miscounted`, `${what} is ${actual}, the independent count gives ${expected} (${explain})`);
}

function checkReferral(state: ReferralView, observation: Observation, facts: CaseFacts, add: Add): void {
  const received = Date.parse(state.receivedAt);
  const dutyPrompt = state.prompts.find((prompt) => prompt.kind === 'duty-decision');
  if (!dutyPrompt) return; // the calendar is still loading
  const expected = state.childProtectionConcern
    ? iso(received + facts.policy.dutyDecisionChildProtectionHours * HOUR_MS)
    : addWorkingDaysIndependent(received, facts.policy.dutyDecisionWorkingDays);
  const explain = state.childProtectionConcern ? `${facts.policy.dutyDecisionChildProtectionHours} hours after receipt ${state.receivedAt}` : `1 working day after receipt ${state.receivedAt}`;
  expectEqual(add, 'duty decision due (dutyDecisionDueAt)', state.dutyDecisionDueAt, expected, explain);
  expectEqual(add, 'duty decision prompt dueBy', dutyPrompt.dueBy, expected, explain);
  const decidedAt = dutyPrompt.status === 'open' ? undefined : ms(dutyPrompt.answeredAt);
  checkFlag(add, 'dutyDecisionOverdue', state.dutyDecisionOverdue, Date.parse(expected), dutyPrompt.status !== 'open', observation, { sticky: true, metAtMs: decidedAt });
  // The assessments a duty decision starts start at once: outside work must not hold them back.
  if (decidedAt !== undefined) {
    for (const entry of state.assessments ?? []) {
      if (entry.status === 'starting' && observation.beforeMs - decidedAt > TOLERANCE_MS) {
        add('I1-next-deadline', 'assessment start held back', `${entry.workflowId} is still starting at ${iso(observation.beforeMs)}, ${fmt(observation.beforeMs - decidedAt)} after the duty decision: none of its deadlines runs`);
      }
    }
  }
}

function checkAssessment(state: AssessmentView, observation: Observation, facts: CaseFacts, add: Add, byId: Map<string, WorkflowView>): void {
  const received = Date.parse(state.receivedAt);
  const child = facts.children.find((candidate) => candidate.childRef === state.childRef);
  const open = state.stage !== 'completed';
  if (open) {
    if (Array.isArray(state.deadlines) && state.deadlines.length === 0) add('I1-next-deadline', 'open assessment without a pending deadline', `stage ${state.stage}: state.deadlines is empty`);
    if (state.completionDueAt === undefined) add('I1-next-deadline', 'open assessment without completionDueAt', `stage ${state.stage}: no completion date (the statutory clock runs from the referral ${state.receivedAt}, allocated or not)`, true);
  }

  // Completion: the timescale from the referral; for an unborn child no later than 4 weeks before the expected delivery (00:00 London).
  const timescale = state.timescaleWorkingDays ?? facts.policy.complexWorkingDays;
  // Due at the end of the last working day (the census counts days, so does the engine).
  const normal = londonEndOfDay(addWorkingDaysIndependent(received, timescale));
  const preBirth = child?.expectedDeliveryDate ? londonMidnightMs(child.expectedDeliveryDate, -facts.policy.preBirthWeeksBeforeDelivery * 7) : undefined;
  if (state.normalCompletionDueAt !== undefined) expectEqual(add, 'normalCompletionDueAt', state.normalCompletionDueAt, normal, `${timescale} working days after receipt ${state.receivedAt}`);
  if (preBirth !== undefined && state.preBirthCompletionDueAt !== undefined) {
    expectEqual(add, 'preBirthCompletionDueAt', state.preBirthCompletionDueAt, iso(preBirth), `00:00 London time ${facts.policy.preBirthWeeksBeforeDelivery} weeks before the expected delivery ${child?.expectedDeliveryDate}`);
  }
  if (state.completionDueAt !== undefined && !facts.completionMovedByManager.has(state.childRef)) {
    const expected = preBirth !== undefined ? iso(Math.min(Date.parse(normal), preBirth)) : normal;
    expectEqual(add, 'completionDueAt', state.completionDueAt, expected, `${timescale} working days after receipt ${state.receivedAt}${preBirth !== undefined ? `, or 4 weeks before delivery if earlier` : ''}`);
  }

  // Supervision review: 25 working days from the referral, or 1 working day after a visit with immediate concerns.
  if (state.supervisionReviewDueAt !== undefined) {
    const candidates = [addWorkingDaysIndependent(received, facts.policy.supervisionReviewWorkingDays)];
    for (const visit of state.evidence?.childSeen ?? []) if (visit.immediateConcerns) candidates.push(addWorkingDaysIndependent(visit.occurredAt, 1));
    if (!candidates.some((candidate) => Date.parse(candidate) === Date.parse(state.supervisionReviewDueAt!))) {
      add('I4-working-days', 'supervisionReviewDueAt miscounted', `supervisionReviewDueAt is ${state.supervisionReviewDueAt}; the independent count allows ${candidates.join(' or ')} (25 working days after receipt, or 1 after a visit with immediate concerns)`);
    }
  }

  // Visit: from the allocation, 24 hours on the effective section 47 track (allocated S47, or a strategy discussion running), else 5 working days.
  const allocation = facts.allocations.get(state.childRef);
  if (allocation && state.originalVisitDueAt !== undefined) {
    const s47 = allocation.track === 'S47' || allocation.strategyRunning;
    const expected = s47 ? iso(allocation.decidedAtMs + facts.policy.visitS47Hours * HOUR_MS) : addWorkingDaysIndependent(allocation.decidedAtMs, facts.policy.visitS17WorkingDays);
    // R-6: significant harm suspected once the case is allocated, while the child is unseen,
    // brings the visit to 24 hours after the strategy discussion is called (counted from when
    // the harm was suspected, so a late report can make the visit overdue at once) if that is
    // sooner. "Once allocated" is when the concern arrived (its record entry), not when it was
    // suspected; whether the child was unseen is judged on arrival too, which a back-dated visit
    // does not show: either count is allowed.
    const broughtForward = (state.strategyDiscussions ?? [])
      .filter((entry) => {
        const called = state.record.find((record) => record.type === 'strategy-discussion-called' && record.ref === entry.workflowId);
        return Date.parse(called?.at ?? entry.calledAt) >= allocation.decidedAtMs;
      })
      .map((entry) => Date.parse(entry.calledAt) + facts.policy.visitS47Hours * HOUR_MS)
      .filter((dueAt) => dueAt < Date.parse(expected))
      .map((dueAt) => iso(dueAt));
    if (broughtForward.length === 0) {
      expectEqual(add, 'visit due (originalVisitDueAt)', state.originalVisitDueAt, expected, s47 ? `24 hours after allocation on the section 47 track (allocated ${allocation.track}${allocation.strategyRunning ? ', a strategy discussion running' : ''})` : '5 working days after allocation');
    } else if (![expected, ...broughtForward].some((candidate) => Date.parse(candidate) === Date.parse(state.originalVisitDueAt!))) {
      add('I4-working-days', 'visit due (originalVisitDueAt) miscounted', `originalVisitDueAt is ${state.originalVisitDueAt}; the independent count allows ${[expected, ...broughtForward].join(' or ')} (from the allocation, or 24 hours after a strategy discussion called while the child was unseen, R-6)`);
    }
  }

  // New information (R-25): the duty decision on it within 1 working day of the event.
  for (const prompt of state.prompts) {
    if (prompt.kind !== 'duty-decision' || prompt.dueBy === undefined) continue;
    const raisedIndex = state.record.findIndex((entry) => entry.type === 'prompt-raised' && entry.ref === prompt.promptId);
    const event = state.record.slice(raisedIndex + 1).find((entry) => entry.source === 'event' && entry.type === 'new-information' && entry.status === 'applied');
    if (raisedIndex < 0 || !event?.occurredAt) continue;
    expectEqual(add, `new-information decision dueBy (${prompt.promptId})`, prompt.dueBy, addWorkingDaysIndependent(event.occurredAt, facts.policy.dutyDecisionWorkingDays), `1 working day after the new information ${event.occurredAt}`);
  }

  // Strategy discussions: started at once (outside work must not hold them back) ...
  for (const entry of state.strategyDiscussions ?? []) {
    const called = state.record.find((record) => record.type === 'strategy-discussion-called' && record.ref === entry.workflowId);
    if (entry.status === 'starting' && called && observation.beforeMs - Date.parse(called.at) > TOLERANCE_MS) {
      add('I1-next-deadline', 'strategy discussion start held back', `${entry.workflowId} is still starting at ${iso(observation.beforeMs)}, ${fmt(observation.beforeMs - Date.parse(called.at))} after it was called: its 1-working-day deadline does not run`);
    }
  }
  // ... and called at the time of what called them.
  for (const entry of state.strategyDiscussions ?? []) {
    let allowed: number[];
    if (entry.cause === 'strategy-discussion-now') {
      const referral = [...byId.values()].find((view) => view.kind === 'referral');
      const decidedAt = referral?.kind === 'referral' ? ms(referral.state.dutyDecision?.decidedAt) : undefined;
      allowed = decidedAt === undefined ? [] : [decidedAt];
    } else {
      allowed = facts.strategyTriggers.filter((trigger) => trigger.childRef === state.childRef && trigger.cause === entry.cause).map((trigger) => trigger.atMs);
    }
    // The time the engine itself called it (workflow time) is as good as the time its cause carries.
    const called = state.record.find((record) => record.type === 'strategy-discussion-called' && record.ref === entry.workflowId);
    if (called && allowed.length > 0) allowed.push(Date.parse(called.at));
    if (allowed.length > 0 && !allowed.includes(Date.parse(entry.calledAt))) {
      add('I4-working-days', `strategy discussion ${entry.sequence} dated wrong`, `strategy discussion ${entry.sequence} (${entry.cause}) is dated ${entry.calledAt}; it was called at ${allowed.map(iso).join(' or ')} (its deadline runs from then)`);
    }
  }

  checkFollowOn(state, observation, facts, add);

  // Overdue flags.
  const overdue = state.overdue ?? {};
  const seenOrExcused = state.childSeenAt !== undefined || state.childNotToBeSeen === true || !open;
  if (state.visitDueAt !== undefined) checkFlag(add, 'overdue.visit', overdue.visit, Date.parse(state.visitDueAt), seenOrExcused, observation);
  checkFlag(add, 'overdue.completion', overdue.completion, ms(state.completionDueAt), !open, observation);
  const reviewOpen = state.openPrompts.some((prompt) => prompt.kind === 'supervision-review');
  if (state.supervisionReviewDueAt !== undefined || overdue.supervisionReview) {
    checkFlag(add, 'overdue.supervisionReview', overdue.supervisionReview, ms(state.supervisionReviewDueAt), !reviewOpen, observation);
  }
  if (state.allocationDueAt === undefined && state.stage === 'awaiting-allocation') {
    add('I5-overdue-flag', 'allocationDueAt missing', 'an assessment awaiting allocation shows no allocation due time (contract: allocationDueAt)', true);
  }
  checkFlag(add, 'overdue.allocation', overdue.allocation, ms(state.allocationDueAt), state.stage !== 'awaiting-allocation', observation);
}

/** A pending deadline of this name at this time (the deadlines list, as the contract shows it). */
function pendingAt(state: CommonState, name: string, dueAt: string): boolean {
  return (state.deadlines ?? []).some((deadline) => deadline.name === name && Date.parse(deadline.dueAt) === Date.parse(dueAt));
}

/**
 * Section 9 (R-31, R-33, R-45): each step the assessment waits on is a deadline counted in
 * working days from its start where the authority's policy sets a time, and otherwise listed
 * as awaiting: never neither. Each plan action not done while the fieldwork runs is a pending
 * deadline at its date until it fires; a safety plan in force ends on a pending deadline.
 */
function checkFollowOn(state: AssessmentView, observation: Observation, facts: CaseFacts, add: Add): void {
  const followOn = state.followOn;
  if (!followOn) {
    add('I1-deadlines-listed', 'state.followOn missing', `the assessment (stage ${state.stage}) shows no follow-on state (assessment plan, safety planning, specialist assessments)`, true);
    return;
  }
  const listed = (step: string, ref?: string) => followOn.awaiting.some((entry) => entry.step === step && (ref === undefined || entry.ref === ref));
  const fieldwork = state.stage === 'in-progress' || state.stage === 'awaiting-sign-off';

  // R-31: the plan, due from the allocation.
  const plan = followOn.assessmentPlan;
  const planDays = facts.policy.assessmentPlanWorkingDays;
  const allocation = facts.allocations.get(state.childRef);
  if (fieldwork && plan.versions.length === 0) {
    if (planDays === undefined) {
      if (!listed('assessment-plan')) add('I1-next-deadline', 'assessment plan neither due nor awaiting', 'no plan is recorded, the policy sets no time for it, and followOn.awaiting does not list it');
    } else if (plan.dueAt === undefined) {
      add('I1-next-deadline', 'assessment plan without a due time', `the policy gives ${planDays} working days for the plan but no dueAt is shown`, true);
    }
  }
  if (planDays !== undefined && plan.dueAt !== undefined && allocation) {
    expectEqual(add, 'assessment plan due (followOn.assessmentPlan.dueAt)', plan.dueAt, addWorkingDaysIndependent(allocation.decidedAtMs, planDays), `${planDays} working days after the allocation ${iso(allocation.decidedAtMs)}`);
  }
  if (plan.dueAt !== undefined) {
    checkFlag(add, 'followOn.assessmentPlan.overdue', plan.overdue, Date.parse(plan.dueAt), plan.versions.length > 0 || !fieldwork, observation, { sticky: true });
  }
  for (const action of plan.actions) {
    const due = Date.parse(action.dueBy);
    if (fieldwork && !action.done && !action.overdue && !pendingAt(state, `assessment-plan-action:${action.actionRef}`, action.dueBy)) {
      add('I1-next-deadline', `plan action ${action.actionRef} without a deadline`, `action ${action.actionRef} due ${action.dueBy} is not done, not overdue, and no deadline is pending for it`);
    }
    if (fieldwork) checkFlag(add, `plan action ${action.actionRef} overdue`, action.overdue, due, action.done, observation, { sticky: true });
  }

  // R-33: the safety planning meeting, due from the concern; a plan in force ends on a deadline.
  const safety = followOn.safetyPlanning;
  const meetingDays = facts.policy.safetyPlanningMeetingWorkingDays;
  if (safety.status === 'meeting-awaited') {
    if (meetingDays === undefined) {
      if (!listed('safety-planning-meeting')) add('I1-next-deadline', 'safety planning meeting neither due nor awaiting', 'a meeting is awaited, the policy sets no time, and followOn.awaiting does not list it');
    } else if (safety.meetingDueAt === undefined || safety.concernAt === undefined) {
      add('I1-next-deadline', 'safety planning meeting without a due time', `the policy gives ${meetingDays} working days but no meetingDueAt is shown`, true);
    } else {
      expectEqual(add, 'safety planning meeting due (meetingDueAt)', safety.meetingDueAt, addWorkingDaysIndependent(safety.concernAt, meetingDays), `${meetingDays} working days after the concern ${safety.concernAt}`);
    }
  }
  const inForce = safety.plans.at(-1);
  if (safety.status === 'in-force' && inForce && !pendingAt(state, 'safety-plan-end', inForce.agreedUntil) && Date.parse(inForce.agreedUntil) > observation.afterMs + EPSILON_MS) {
    add('I1-next-deadline', 'safety plan in force without its end', `the safety plan agreed until ${inForce.agreedUntil} has no pending safety-plan-end deadline`);
  }

  // R-45: a specialist assessment's result, due from the request.
  const resultDays = facts.policy.specialistAssessmentResultWorkingDays;
  for (const entry of followOn.specialistAssessments) {
    if (entry.status !== 'awaiting') continue;
    if (resultDays === undefined) {
      if (!listed('specialist-assessment-result', entry.requestRef)) add('I1-next-deadline', `specialist result ${entry.requestRef} neither due nor awaiting`, 'its result is awaited, the policy sets no time, and followOn.awaiting does not list it');
    } else if (entry.resultDueAt === undefined) {
      add('I1-next-deadline', `specialist result ${entry.requestRef} without a due time`, `the policy gives ${resultDays} working days but no resultDueAt is shown`, true);
    } else {
      expectEqual(add, `specialist result due (${entry.requestRef})`, entry.resultDueAt, addWorkingDaysIndependent(entry.requestedAt, resultDays), `${resultDays} working days after the request ${entry.requestedAt}`);
    }
  }
}

/**
 * R-44: an open child in need plan always has its next review ahead, as a pending deadline,
 * or a review open now; each action point's date is a deadline until it passes.
 */
function checkChildInNeedPlan(state: ChildInNeedPlanView, observation: Observation, add: Add): void {
  if (state.stage !== 'open') return;
  const reviewOpen = state.openPrompts.some((prompt) => prompt.kind === 'cin-plan-review');
  const scheduled = state.reviews.filter((review) => review.status === 'scheduled');
  if (!reviewOpen && scheduled.length === 0) add('I1-next-deadline', 'open plan without a next review', 'the plan is open, no review is open and none is scheduled');
  for (const [index, review] of state.reviews.entries()) {
    if (review.status === 'scheduled' && !pendingAt(state, `cin-plan-review:${index + 1}`, review.dueAt)) {
      add('I1-next-deadline', `review ${index + 1} without a deadline`, `review ${index + 1} due ${review.dueAt} is scheduled but no deadline is pending for it`);
    }
  }
  if (state.nextReviewAt !== undefined && scheduled.length > 0) {
    const earliest = Math.min(...scheduled.map((review) => Date.parse(review.dueAt)));
    if (Date.parse(state.nextReviewAt) !== earliest) add('I1-next-deadline', 'nextReviewAt not the earliest review', `nextReviewAt ${state.nextReviewAt}, the earliest scheduled review ${iso(earliest)}`);
  }
  for (const action of state.plan.actions) {
    const due = Date.parse(action.dueBy);
    const fired = state.actionsDue.includes(action.actionRef);
    if (!fired && due > observation.afterMs + TOLERANCE_MS && !pendingAt(state, `cin-plan-action:${action.actionRef}`, action.dueBy)) {
      add('I1-next-deadline', `plan action ${action.actionRef} without a deadline`, `action point ${action.actionRef} due ${action.dueBy} has no pending deadline`);
    }
    if (!fired && due < observation.beforeMs - TOLERANCE_MS) add('I2-fired-late', `plan action ${action.actionRef} not brought to the manager`, `action point ${action.actionRef} due ${action.dueBy} passed without the plan's manager being told`);
  }
}

function checkStrategy(state: StrategyView, observation: Observation, facts: CaseFacts, add: Add, byId: Map<string, WorkflowView>): void {
  void byId;
  expectEqual(add, 'strategy discussion due (discussionDueAt)', state.discussionDueAt, addWorkingDaysIndependent(state.calledAt, facts.policy.strategyDiscussionWorkingDays), `1 working day after it was called, ${state.calledAt}`);
  const prompt = state.prompts.find((candidate) => candidate.kind === 'strategy-discussion-outcome');
  checkFlag(add, 'overdue (strategy discussion)', state.overdue, Date.parse(state.discussionDueAt), state.stage !== 'awaiting-discussion', observation, {
    sticky: true,
    metAtMs: ms(prompt?.answeredAt),
  });
}

function checkSection47(state: Section47View, observation: Observation, facts: CaseFacts, add: Add, byId: Map<string, WorkflowView>): void {
  expectEqual(add, 'child seen due (childSeenDueAt)', state.childSeenDueAt, iso(Date.parse(state.startedAt) + facts.policy.section47ChildSeenHours * HOUR_MS), `24 hours after the enquiry started, ${state.startedAt}`);
  const discussion = [...byId.values()].find((view) => view.kind === 'strategy' && view.state.childRef === state.childRef && view.state.sequence === state.sequence);
  const heldAt = discussion?.kind === 'strategy' ? discussion.state.heldAt : undefined;
  if (state.conferenceDueAt !== undefined && heldAt !== undefined) {
    expectEqual(
      add,
      'conference due (conferenceDueAt)',
      state.conferenceDueAt,
      addWorkingDaysIndependent(heldAt, facts.policy.initialConferenceWorkingDays),
      `15 working days after the strategy discussion that started this enquiry, held ${heldAt} (the enquiry counts from ${state.initialStrategyDiscussionAt})`,
    );
  }
  const seenPrompt = state.record.find((entry) => entry.source === 'event' && entry.type === 'child-seen' && entry.status === 'applied');
  checkFlag(add, 'overdue.childSeen', state.overdue?.childSeen, Date.parse(state.childSeenDueAt), state.childSeenAt !== undefined || state.stage === 'concluded', observation, {
    sticky: true,
    metAtMs: seenPrompt ? Date.parse(seenPrompt.at) : undefined,
  });
  if (state.conferenceDueAt !== undefined) {
    const held = state.record.find((entry) => entry.source === 'event' && entry.type === 'child-protection-conference-held' && entry.status === 'applied');
    checkFlag(add, 'overdue.conference', state.overdue?.conference, Date.parse(state.conferenceDueAt), state.stage !== 'awaiting-conference', observation, {
      sticky: true,
      metAtMs: held ? Date.parse(held.at) : undefined,
    });
  }
}

// ---- a message never moves a deadline later ----

/** Every due time a view shows as pending: its deadlines list, its named due fields while unmet, its open prompts' dueBy. */
export function dueTimes(view: WorkflowView): Map<string, number> {
  const dues = new Map<string, number>();
  for (const deadline of view.state.deadlines ?? []) {
    const due = ms(deadline?.dueAt);
    if (typeof deadline?.name === 'string' && due !== undefined) dues.set(`deadline ${deadline.name}`, due);
  }
  // A named due time counts only while what it waits for is still pending (a new supervision
  // review after the last one was held is a new obligation, not the old one moved).
  const open = (kind: string) => view.state.openPrompts?.some((prompt) => prompt.kind === kind) === true;
  const pending: Array<[string, string | undefined]> = [];
  switch (view.kind) {
    case 'referral':
      if (open('duty-decision')) pending.push(['dutyDecisionDueAt', view.state.dutyDecisionDueAt]);
      break;
    case 'assessment': {
      const state = view.state;
      if (state.stage !== 'completed') pending.push(['completionDueAt', state.completionDueAt]);
      if (open('supervision-review')) pending.push(['supervisionReviewDueAt', state.supervisionReviewDueAt]);
      if (state.stage !== 'completed' && state.childSeenAt === undefined && !state.childNotToBeSeen) pending.push(['visitDueAt', state.visitDueAt]);
      if (state.stage === 'awaiting-allocation') pending.push(['allocationDueAt', state.allocationDueAt]);
      break;
    }
    case 'strategy':
      if (view.state.stage === 'awaiting-discussion') pending.push(['discussionDueAt', view.state.discussionDueAt]);
      break;
    case 's47':
      if (view.state.childSeenAt === undefined && view.state.stage !== 'concluded') pending.push(['childSeenDueAt', view.state.childSeenDueAt]);
      if (view.state.stage === 'awaiting-conference') pending.push(['conferenceDueAt', view.state.conferenceDueAt]);
      break;
  }
  for (const [field, value] of pending) if (typeof value === 'string') dues.set(field, Date.parse(value));
  for (const prompt of view.state.openPrompts ?? []) if (prompt.dueBy !== undefined) dues.set(`prompt ${prompt.promptId}`, Date.parse(prompt.dueBy));
  return dues;
}

/** After a message (an event, a repeat, a late event), no due time present before and after is later. */
export function checkNotMovedLater(before: Observation, after: Observation, message: string): Violation[] {
  const violations: Violation[] = [];
  const previous = new Map(before.views.map((view) => [view.workflowId, dueTimes(view)]));
  for (const view of after.views) {
    const earlier = previous.get(view.workflowId);
    if (!earlier) continue;
    for (const [name, due] of dueTimes(view)) {
      const was = earlier.get(name);
      // R-31: a new version of the assessment plan sets its actions' dates anew, later ones included: a re-plan, not a message moving a deadline.
      if (name.startsWith('deadline assessment-plan-action:') && message.endsWith('assessment plan recorded')) continue;
      if (was !== undefined && due > was + EPSILON_MS) {
        const label = name.startsWith('prompt ') ? `prompt ${name.slice(name.lastIndexOf('~') + 1).replace(/-\d+$/, '')}` : name;
        violations.push({
          invariant: 'I3-moved-later',
          workflowId: view.workflowId,
          what: `${label} moved later by ${message.split(' ')[0]}`,
          detail: `${name} moved from ${iso(was)} to ${iso(due)} by ${message}`,
        });
      }
    }
  }
  return violations;
}
