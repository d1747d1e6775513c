/**
 * One child's assessment (R-4 .. ), started by the referral workflow as a child
 * workflow. Deadlines run from the times that events and decisions carry (the
 * referral date, the allocation decision), never from when this workflow started, so a
 * back-dated referral whose deadline has passed escalates at once.
 */
import { getExternalWorkflowHandle, isCancellation, ParentClosePolicy, setHandler, startChild } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  checklistEvidence,
  childReceivesOutcome,
  completionDue,
  emptyEvidence,
  eventMisfit,
  eventMisfitWithIntegrity,
  extensionPromptKind,
  isHomeless16Or17,
  isLateRecording,
  isSchoolAge,
  localDateOf,
  signOffRefusal,
  timescaleWorkingDays,
  visitDue,
  workingDaysBefore,
  type AssessmentEvidence,
  type AssessmentStage,
  type AssessmentType,
  type ItemEvidence,
  type SignOffDecision,
} from '../domain/assessment-rules';
import { assessmentStartedAt, censusWorkingDays } from '../domain/cin-census/measures';
import type { DomainEvent } from '../domain/events';
import { assessmentWorkflowId, section47EnquiryWorkflowId, strategyDiscussionWorkflowId } from '../domain/ids';
import type { AssessmentInput, AssessmentResult, CaseContext, ConsentStatus, StrategyDiscussionInput, StrategyDiscussionResult, Track } from '../domain/process';
import { signOffChecklist, type AnyDecision, type ChecklistItem, type DecisionFor, type Outcome, type Prompt } from '../domain/prompts';
import type { RecordEntry } from '../domain/record';
import { addHours, addWorkingDays, workingDaysBetween } from '../domain/working-days';
import { STATUTORY_MAXIMUM_WORKING_DAYS } from '../domain/policy';
import { addDaysInUnit, referralClockStartMs, type ProcedureRecord } from '../domain/procedure-checks';
import type { Notification } from '../activities';
import { createProcedureChecks } from './assessment-checks';
import { CaseEngine, type EventVerdict, type PendingDeadline } from './engine';
import { createOutcomeFollowOn, type FollowOnState } from './assessment-outcomes';
import { consentOverriddenSignal, eventSignal } from './messages';
import { createOutbound } from './outbound';
import { applyPromptTiming } from './prompt-timing';
import {
  CompletedAtKey,
  CompletedWithinTimescaleKey,
  CompletionDueAtKey,
  LocalAuthorityKey,
  ManagerIdKey,
  OverdueKey,
  ReferralIdKey,
  SeenWithinTimescaleKey,
  StageKey,
  TeamKey,
  TrackKey,
  VisitDueAtKey,
  WorkingDaysToCompleteKey,
  CensusWorkingDaysKey,
} from './search-attributes';

export { assessmentWorkflowId };

/** The workflow type of the strategy discussion (written alongside, in workflows/strategy-discussion.ts). */
export const STRATEGY_DISCUSSION_WORKFLOW_TYPE = 'strategyDiscussionWorkflow';

const DAY_MS = 86_400_000;
/** How often the manager is reminded of an assessment past its statutory timescale (a working week). */
const BREACH_REMINDER_WORKING_DAYS = 5;

export interface StrategyDiscussionEntry {
  sequence: number;
  workflowId: string;
  /** The section 47 enquiry this discussion may start; field events are forwarded to it. */
  section47WorkflowId: string;
  calledAt: string;
  /** What called it: an event type or a decision. */
  cause: string;
  status: 'starting' | 'running' | 'concluded' | 'failed';
  result?: StrategyDiscussionResult;
  failure?: string;
}

export interface DecisionEntry {
  promptId: string;
  kind: Prompt['kind'];
  rule: string;
  decision: string;
  decidedBy: string;
  decidedAt: string;
  rationale: string;
}

export interface OutcomeSharing {
  recipient: Notification['recipient'];
  target?: string;
  status: 'sent' | 'withheld' | 'not-sent';
  reason?: string;
}

export interface AssessmentState {
  workflowId: string;
  referralId: string;
  childRef: string;
  stage: AssessmentStage;
  track: Track;
  assessmentType?: AssessmentType;
  timescaleWorkingDays?: number;
  socialWorkerId?: string;
  team?: string;
  managerId?: string;
  consent: ConsentStatus;
  receivedAt: string;
  /** when the allocation is due (cases started since the deadline-integrity change). */
  allocationDueAt?: string;
  allocatedAt?: string;
  visitDueAt?: string;
  /** the visit deadline set at allocation (a rescheduled date does not move it). */
  originalVisitDueAt?: string;
  childSeenAt?: string;
  childNotToBeSeen: boolean;
  seenWithinTimescale?: boolean;
  supervisionReviewDueAt?: string;
  completionDueAt?: string;
  /** the end of the 45th working day from the referral, unless a later date was agreed. */
  statutoryCompletionDueAt?: string;
  normalCompletionDueAt?: string;
  preBirthCompletionDueAt?: string;
  submittedAt?: string;
  completedAt?: string;
  completedWithinTimescale?: boolean;
  workingDaysToComplete?: number;
  reviewWindowEndsAt?: string;
  overdue: { allocation: boolean; visit: boolean; completion: boolean; supervisionReview: boolean };
  breaches: Array<{ rule: string; deadline: string; dueAt: string; recordedAt: string }>;
  evidence: AssessmentEvidence;
  checklistEvidence: Record<ChecklistItem, ItemEvidence>;
  /** The second reading's record (cases since the procedure-checks patch; workflows/assessment-checks.ts). */
  procedure?: ProcedureRecord;
  interpreter: { needed: boolean; provided: boolean; waiver?: 'requested' | 'approved' | 'refused' };
  fatherExclusion?: 'requested' | 'approved' | 'refused';
  familyDeclined?: { eventId: string; occurredAt: string; attempts: number };
  servicesReferred: string[];
  homeless16Or17: boolean;
  determinations?: SignOffDecision['determinations'];
  outcome?: Outcome;
  checklist?: SignOffDecision['checklist'];
  signedOffBy?: string;
  /** What the Children in Need census takes from this assessment (domain/cin-census). */
  census: AssessmentCensusItems;
  outcomeSharing: OutcomeSharing[];
  familyComments: Array<{ eventId: string; occurredAt: string }>;
  strategyDiscussions: StrategyDiscussionEntry[];
  /** .. R-45: what the outcome and emergencies started (workflows/assessment-outcomes.ts). */
  followOn: FollowOnState;
  decisions: DecisionEntry[];
  /** decisions taken on top of the completed record. */
  subsequentDecisions: DecisionEntry[];
  /** The pending deadlines, earliest first: an open assessment always has one. */
  deadlines: PendingDeadline[];
  prompts: Prompt[];
  openPrompts: Prompt[];
  record: RecordEntry[];
}

/**
 * The census items of an assessment: its start (the duty decision that opened it, or its
 * allocation) and authorisation (sign-off), the duration between them as the census counts
 * it, and the codes the manager chose at sign-off.
 */
export interface AssessmentCensusItems {
  startedAt?: string;
  authorisedAt?: string;
  workingDaysStartToAuthorisation?: number;
  primaryNeedCode?: string;
  assessmentFactors?: string[];
}

export async function assessmentWorkflow(input: AssessmentInput): Promise<AssessmentResult> {
  const engine = new CaseEngine({ idScheme: input.idScheme });
  const { policy, calendar, child } = input;
  // an unborn child's clock runs from when the pregnancy was known (procedure-checks).
  const receivedAtMs = referralClockStartMs(calendar, child, Date.parse(input.receivedAt), engine.procedureChecks);
  const iso = (ms: number) => new Date(ms).toISOString();

  let stage: AssessmentStage = 'awaiting-allocation';
  let track: Track = input.track;
  let assessmentType: AssessmentType | undefined;
  let timescale: number | undefined;
  let socialWorkerId: string | undefined;
  let team = input.team;
  let consent = input.consent;
  let allocatedAt: string | undefined;
  let visitDueAt: number | undefined;
  let originalVisitDueAt: number | undefined;
  let childSeenAt: string | undefined;
  let childNotToBeSeen = false;
  let supervisionReviewDueAt: number | undefined;
  let completion: ReturnType<typeof completionDue> | undefined;
  let completionDueAt: number | undefined;
  let submittedAt: string | undefined;
  let completedAt: string | undefined;
  let reviewWindowEndsAt: number | undefined;
  let reviewWindowOver = false;
  let fatherExclusion: AssessmentState['fatherExclusion'];
  let familyDeclined: AssessmentState['familyDeclined'];
  let determinations: AssessmentState['determinations'];
  let outcome: Outcome | undefined;
  let checklist: AssessmentState['checklist'];
  let signedOffBy: string | undefined;
  let primaryNeedCode: string | undefined;
  let assessmentFactors: string[] | undefined;
  const overdue = { allocation: false, visit: false, completion: false, supervisionReview: false };
  let allocationDueAt: number | undefined;
  let statutoryCompletionDueAt: number | undefined;
  const breaches: AssessmentState['breaches'] = [];
  const evidence = emptyEvidence(input.householdChildRefs);
  const interpreter: AssessmentState['interpreter'] = { needed: false, provided: false };
  const servicesReferred: string[] = [];
  const outcomeSharing: OutcomeSharing[] = [];
  const familyComments: AssessmentState['familyComments'] = [];
  const strategyDiscussions: StrategyDiscussionEntry[] = [];
  const decisions: DecisionEntry[] = [];
  const subsequentDecisions: DecisionEntry[] = [];
  let homeless16Or17 = isHomeless16Or17(child, localDateOf(calendar, receivedAtMs));

  const seenWithinTimescale = (): boolean | undefined => {
    if (originalVisitDueAt === undefined) return undefined;
    if (childSeenAt !== undefined) return Date.parse(childSeenAt) <= originalVisitDueAt;
    return Date.now() > originalVisitDueAt ? false : undefined;
  };
  const completedWithinTimescale = (): boolean | undefined =>
    completedAt !== undefined && completionDueAt !== undefined ? Date.parse(completedAt) <= completionDueAt : undefined;
  const workingDaysToComplete = (): number | undefined =>
    completedAt !== undefined ? workingDaysBetween(calendar, receivedAtMs, Date.parse(completedAt)) : undefined;
  const census = (): AssessmentCensusItems => {
    const startedAt = assessmentStartedAt({ dutyDecidedAt: input.dutyDecidedAt, allocatedAt });
    return {
      startedAt,
      authorisedAt: completedAt,
      workingDaysStartToAuthorisation: startedAt !== undefined && completedAt !== undefined ? censusWorkingDays(calendar, startedAt, completedAt) : undefined,
      primaryNeedCode,
      assessmentFactors,
    };
  };
  const strategyDiscussionRunning = () => strategyDiscussions.some((entry) => entry.status === 'starting' || entry.status === 'running');

  // ---- outside work: notifications and case records (opaque references only) ----

  const outbound = createOutbound(engine, { referralId: input.referralId, childRef: child.childRef });
  const sendNotification = outbound.notify;
  const sendCaseRecord = outbound.caseRecord;
  applyPromptTiming(engine, calendar, policy, outbound);
  engine.setDecisionsNotBefore(receivedAtMs);

  // ---- the second reading's procedure checks (workflows/assessment-checks.ts) ----
  const checks = createProcedureChecks({
    engine,
    input,
    outbound,
    stage: () => stage,
    consent: () => consent,
    consentOverridden: (promptId, decidedBy) => {
      consent = 'overridden';
      engine.log({ source: 'engine', type: 'consent-overridden', ref: promptId, actor: decidedBy, status: 'applied', rule: 'R-2' });
    },
    originalVisitDueAt: () => originalVisitDueAt,
    fatherExclusion: () => fatherExclusion,
    householdChildRefs: evidence.householdChildRefs,
    startStrategyDiscussion: (cause, calledAtMs) => startStrategyDiscussion(cause, calledAtMs),
    askForSupervisionReview: (dueAt) => askForSupervisionReview(dueAt),
  });
  if (checks.homelessYoungPerson) homeless16Or17 = true;

  // ---- strategy discussions (child workflows) ----

  /** What every workflow this assessment starts (strategy discussions, child in need plans) carries of the case; the team as it is now. */
  const caseContext = (): CaseContext => ({
    referralId: input.referralId,
    receivedAt: input.receivedAt,
    referrerType: input.referrerType,
    childProtectionConcern: input.childProtectionConcern,
    team,
    managerId: input.managerId,
    localAuthority: input.localAuthority,
    policy,
    calendar,
    idScheme: engine.idScheme,
  });

  const startStrategyDiscussion = (cause: string, calledAtMs: number) => {
    if (strategyDiscussionRunning()) {
      // A repeated concern while one runs is recorded, and goes to the running discussion's people.
      engine.log({ source: 'engine', type: 'strategy-discussion-already-running', status: 'applied', rule: 'R-13', reason: cause });
      if (engine.integrity) {
        const running = [...strategyDiscussions].reverse().find((candidate) => candidate.status === 'starting' || candidate.status === 'running');
        sendNotification('manager', 'significant-harm-suspected-again', 'R-13', running ? { target: running.workflowId } : {}, true);
      }
      return;
    }
    track = 'S47';
    // a child not yet seen when significant harm is suspected is seen within the section 47 hours.
    if (engine.integrity && stage !== 'awaiting-allocation' && stage !== 'completed' && childSeenAt === undefined && !childNotToBeSeen && visitDueAt !== undefined) {
      const s47VisitDueAt = addHours(calledAtMs, policy.visitS47Hours);
      if (s47VisitDueAt < visitDueAt) {
        originalVisitDueAt = Math.min(originalVisitDueAt ?? s47VisitDueAt, s47VisitDueAt);
        scheduleVisit(s47VisitDueAt);
      }
    }
    const sequence = strategyDiscussions.length + 1;
    const first = strategyDiscussions[0];
    const entry: StrategyDiscussionEntry = {
      sequence,
      workflowId: strategyDiscussionWorkflowId(input.referralId, child.childRef, sequence, engine.idScheme),
      section47WorkflowId: section47EnquiryWorkflowId(input.referralId, child.childRef, sequence, engine.idScheme),
      calledAt: iso(calledAtMs),
      cause,
      status: 'starting',
    };
    strategyDiscussions.push(entry);
    const discussionInput: StrategyDiscussionInput = {
      ...caseContext(),
      childProtectionConcern: true,
      childRef: child.childRef,
      ...(child.lookedAfter ? { lookedAfter: true } : {}),
      sequence,
      calledAt: entry.calledAt,
      initialStrategyDiscussionAt: first ? (first.result?.heldAt ?? first.calledAt) : undefined,
    };
    engine.log({ source: 'engine', type: 'strategy-discussion-called', ref: entry.workflowId, status: 'applied', rule: 'R-13', reason: cause });
    engine.later(async () => {
      try {
        const handle = await startChild(STRATEGY_DISCUSSION_WORKFLOW_TYPE, {
          workflowId: entry.workflowId,
          args: [discussionInput],
          // The strategy discussion and its section 47 enquiry are statutory processes of
          // their own: they must go on if this assessment closes (review window over,
          // terminated by operations), so the parent's closing must not end them.
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        entry.status = 'running';
        // Awaited in the background: the main loop goes on with deadlines and messages.
        handle.result().then(
          (result: StrategyDiscussionResult) => engine.later(async () => concludeStrategyDiscussion(entry, result)),
          (error: unknown) => engine.later(async () => failStrategyDiscussion(entry, error)),
        );
      } catch (error) {
        if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
        failStrategyDiscussion(entry, error);
      }
      // Keyed by the discussion: what is forwarded to it waits until it has started.
    }, { key: `child:${entry.workflowId}` });
  };

  const concludeStrategyDiscussion = (entry: StrategyDiscussionEntry, result: StrategyDiscussionResult) => {
    entry.status = 'concluded';
    entry.result = result;
    // no section 47 enquiry → the assessment continues under section 17.
    if (result.outcome === 'no-section-47' && !strategyDiscussionRunning()) track = 'S17';
    engine.log({ source: 'engine', type: 'strategy-discussion-concluded', ref: entry.workflowId, status: 'applied', rule: 'R-13', reason: result.outcome });
    followOn.circumstancesChanged('strategy-discussion', Date.now());
    sendCaseRecord('strategy-discussion-result', { sequence: entry.sequence, workflowId: entry.workflowId, outcome: result.outcome, heldAt: result.heldAt });
  };

  const failStrategyDiscussion = (entry: StrategyDiscussionEntry, error: unknown) => {
    entry.status = 'failed';
    entry.failure = error instanceof Error ? error.message : String(error);
    engine.log({ source: 'engine', type: 'strategy-discussion-failed', ref: entry.workflowId, status: 'rejected', rule: 'R-13', reason: entry.failure });
    sendNotification('manager', 'strategy-discussion-failed', 'R-13');
  };

  const followOn = createOutcomeFollowOn({
    engine,
    outbound,
    caseContext,
    childRef: child.childRef,
    preBirth: child.expectedDeliveryDate !== undefined,
    familyDeclined: () => familyDeclined !== undefined,
    contributingAgencies: () => evidence.agencyInformation.map((entry) => entry.agency),
    childReceivesOutcome: (atMs) => childReceivesOutcome(child, localDateOf(calendar, atMs)),
    householdChildRefs: input.householdChildRefs,
    stage: () => stage,
    strategyDiscussions: () => strategyDiscussions,
    startStrategyDiscussion: (cause, calledAtMs) => startStrategyDiscussion(cause, calledAtMs),
    newInformation: (occurredAtMs) => void askAboutNewInformation(occurredAtMs),
  });

  /** While a strategy discussion runs, its section 47 enquiry learns of the child being seen and of a conference. */
  const forwardToSection47 = (event: DomainEvent) => {
    const running = [...strategyDiscussions].reverse().find((entry) => entry.status === 'starting' || entry.status === 'running');
    if (!running) return;
    // Since the deadline-integrity change, to the strategy discussion: it credits a child
    // seen before its enquiry starts, and passes the rest on to the enquiry.
    const target = engine.integrity ? running.workflowId : running.section47WorkflowId;
    engine.later(async () => {
      try {
        await getExternalWorkflowHandle(target).signal(eventSignal, event);
        engine.log({ source: 'engine', type: 'event-forwarded', ref: event.eventId, status: 'applied', rule: 'R-13', reason: target });
      } catch (error) {
        if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
        // No enquiry (yet, or the discussion decided against one): nothing to forward to.
        engine.log({ source: 'engine', type: 'event-not-forwarded', ref: event.eventId, status: 'applied', rule: 'R-13', reason: 'no section 47 enquiry running' });
      }
    }, { key: `child:${running.workflowId}` });
  };

  // ---- deadlines ----

  const onVisitDue = () => {
    if (childSeenAt !== undefined || childNotToBeSeen || stage === 'completed') return;
    overdue.visit = true;
    if (!engine.integrity) engine.log({ source: 'engine', type: 'deadline-passed', status: 'applied', rule: 'R-7', reason: 'visit' });
    const prompt = engine.raisePrompt('visit-overdue', 'R-7', { about: 'visit' });
    sendNotification('manager', 'visit-overdue', 'R-7', { promptId: prompt.promptId });
  };

  const scheduleVisit = (dueAt: number) => {
    visitDueAt = dueAt;
    overdue.visit = false;
    engine.setDeadline('visit', dueAt, onVisitDue);
  };

  const onSupervisionReviewDue = () => {
    const open = engine.openPrompt('supervision-review');
    if (!open || stage === 'completed') return;
    overdue.supervisionReview = true;
    open.overdue = true;
    if (!engine.integrity) engine.log({ source: 'engine', type: 'deadline-passed', ref: open.promptId, status: 'applied', rule: 'R-15', reason: 'supervision-review' });
    const escalation = engine.raisePrompt('escalation', 'R-15', { about: 'supervision-review' });
    sendNotification('manager', 'supervision-review-overdue', 'R-15', { promptId: escalation.promptId });
  };

  const askForSupervisionReview = (dueAt: number) => {
    const open = engine.openPrompt('supervision-review');
    if (open) {
      if (open.dueBy !== undefined && Date.parse(open.dueBy) <= dueAt) return;
      engine.moveDueBy(open, dueAt);
      engine.log({ source: 'engine', type: 'supervision-review-brought-forward', ref: open.promptId, status: 'applied', rule: 'R-15' });
    } else {
      engine.raisePrompt('supervision-review', 'R-15', { dueBy: dueAt, escalatedByWorkflow: true });
    }
    supervisionReviewDueAt = dueAt;
    engine.setDeadline('supervision-review', dueAt, onSupervisionReviewDue);
  };

  const onExtensionWarning = () => {
    if (completionDueAt === undefined || stage === 'completed' || Date.now() >= completionDueAt) return;
    const kind = extensionPromptKind(calendar, assessmentType ?? 'complex', receivedAtMs, completionDueAt);
    // a brief assessment already submitted needs no more depth.
    if (kind === 'extend-to-complex' && stage !== 'in-progress') return;
    engine.raisePrompt(kind, kind === 'extend-to-complex' ? 'R-18' : 'R-19', { dueBy: completionDueAt, about: 'completion', escalatedByWorkflow: true });
  };

  const onCompletionDue = () => {
    if (completionDueAt === undefined || stage === 'completed') return;
    overdue.completion = true;
    for (const prompt of engine.openPrompts()) if (prompt.kind === 'sign-off' || prompt.about === 'completion') prompt.overdue = true;
    if (engine.integrity && statutoryCompletionDueAt !== undefined && completionDueAt < statutoryCompletionDueAt) {
      // The authority's own, shorter timescale (brief: R-18) or a pre-birth date was
      // missed: the manager is told; the statutory 45 days still run, and their breach goes higher.
      const rule = completion?.preBirthDueAt === completionDueAt ? 'R-20' : assessmentType === 'brief' ? 'R-18' : 'R-5';
      breaches.push({ rule, deadline: 'completion', dueAt: iso(completionDueAt), recordedAt: engine.now() });
      engine.log({ source: 'engine', type: 'timescale-missed', status: 'applied', rule, reason: `completion was due ${iso(completionDueAt)}` });
      const escalation = engine.raisePrompt('escalation', rule, { about: 'completion' });
      sendNotification('manager', 'timescale-missed', rule, { promptId: escalation.promptId });
      if (rule === 'R-20') sendNotification('head-of-service', 'timescale-missed', rule, { promptId: escalation.promptId });
      engine.setDeadline('statutory-completion', statutoryCompletionDueAt, onStatutoryCompletionDue);
      return;
    }
    breaches.push({ rule: 'R-19', deadline: 'completion', dueAt: iso(completionDueAt), recordedAt: engine.now() });
    engine.log({ source: 'engine', type: 'timescale-breached', status: 'applied', rule: 'R-19', reason: `completion was due ${iso(completionDueAt)}` });
    const escalation = engine.raisePrompt('escalation', 'R-19', { about: 'completion' });
    sendNotification('manager', 'timescale-breached', 'R-19', { promptId: escalation.promptId });
    sendNotification('head-of-service', 'timescale-breached', 'R-19', { promptId: escalation.promptId });
    if (engine.integrity) remindWhileBreached();
  };

  /**
   * A case past its statutory timescale is never left without a next deadline: every
   * `BREACH_REMINDER_WORKING_DAYS` working days until sign-off, the manager is reminded.
   */
  const remindWhileBreached = () => {
    engine.setDeadline('breach-reminder', addWorkingDays(calendar, Date.now(), BREACH_REMINDER_WORKING_DAYS), () => {
      if (stage === 'completed') return;
      sendNotification('manager', 'timescale-still-breached', 'R-19');
      remindWhileBreached();
    });
  };

  /** the statutory maximum passed without an agreed later date. */
  const onStatutoryCompletionDue = () => {
    if (statutoryCompletionDueAt === undefined || stage === 'completed') return;
    overdue.completion = true;
    breaches.push({ rule: 'R-19', deadline: 'statutory-completion', dueAt: iso(statutoryCompletionDueAt), recordedAt: engine.now() });
    engine.log({ source: 'engine', type: 'timescale-breached', status: 'applied', rule: 'R-19', reason: `the statutory maximum ended ${iso(statutoryCompletionDueAt)}` });
    const escalation = engine.raisePrompt('escalation', 'R-19', { about: 'statutory-completion' });
    sendNotification('manager', 'timescale-breached', 'R-19', { promptId: escalation.promptId });
    sendNotification('head-of-service', 'timescale-breached', 'R-19', { promptId: escalation.promptId });
    remindWhileBreached();
  };

  const setCompletionDue = (dueAt: number, agreedAt?: number) => {
    completionDueAt = dueAt;
    if (engine.integrity) {
      engine.clearDeadline('statutory-completion');
      // An agreed later date becomes the statutory limit of this case.
      if (statutoryCompletionDueAt !== undefined && dueAt > statutoryCompletionDueAt) statutoryCompletionDueAt = dueAt;
    }
    if (Date.now() < dueAt) overdue.completion = false;
    const warningAt = workingDaysBefore(calendar, dueAt, policy.extensionWarningWorkingDays);
    // A date the manager has just agreed inside its own warning window needs no second asking.
    if (agreedAt !== undefined && agreedAt >= warningAt) engine.clearDeadline('extension-warning');
    else engine.setDeadline('extension-warning', warningAt, onExtensionWarning);
    engine.setDeadline('completion', dueAt, onCompletionDue);
    const signOff = engine.openPrompt('sign-off');
    if (signOff) engine.moveDueBy(signOff, dueAt);
  };

  /** R-18 (and the supervision review's extend-to-complex): the brief assessment becomes complex. */
  const extendToComplex = () => {
    assessmentType = 'complex';
    timescale = policy.complexWorkingDays;
    completion = completionDue(calendar, policy, receivedAtMs, timescale, child.expectedDeliveryDate, engine.integrity);
    engine.withdrawPrompts('extend-to-complex', 'extended to a complex assessment');
    setCompletionDue(completion.completionDueAt);
  };

  const onReviewWindowEnd = () => {
    reviewWindowOver = true;
  };

  // ---- events ----

  /** new information on a completed assessment asks the manager's decision (due within the duty decision's time). */
  const askAboutNewInformation = (occurredAtMs: number): EventVerdict => {
    followOn.preBirthChange(occurredAtMs);
    const open = engine.openPrompt('duty-decision', 'new-information');
    if (engine.integrity && open) {
      // More information while the decision on the first is awaited: the decision stays due when it was.
      sendNotification('manager', 'new-information', 'R-25', { promptId: open.promptId });
      return { rule: 'R-25' };
    }
    const dueBy = addWorkingDays(calendar, occurredAtMs, policy.dutyDecisionWorkingDays);
    const prompt = engine.raisePrompt('duty-decision', 'R-25', { dueBy, about: 'new-information', escalatedByWorkflow: true });
    engine.setDeadline('new-information', dueBy, () => {
      prompt.overdue = prompt.status === 'open' || prompt.overdue;
      if (prompt.status !== 'open') return;
      const escalation = engine.raisePrompt('escalation', 'R-25', { about: 'new-information' });
      sendNotification('manager', 'duty-decision-overdue', 'R-25', { promptId: escalation.promptId });
    });
    sendNotification('manager', 'new-information', 'R-25', { promptId: prompt.promptId });
    return { rule: 'R-25' };
  };

  const applyEvent = (event: DomainEvent): EventVerdict => {
    if (followOn.owns(event.type)) return followOn.onEvent(event);
    switch (event.type) {
      case 'child-seen': {
        evidence.childSeen.push({
          eventId: event.eventId,
          occurredAt: event.occurredAt,
          seenAlone: event.seenAlone,
          viewsRecorded: event.viewsRecorded,
          immediateConcerns: event.immediateConcerns ?? false,
        });
        if (childSeenAt === undefined) childSeenAt = event.occurredAt;
        overdue.visit = false;
        engine.clearDeadline('visit');
        engine.withdrawPrompts('visit-overdue', 'the child was seen');
        // a visit with immediate concerns brings the supervision review forward (asked now, due next working day).
        if (event.immediateConcerns) askForSupervisionReview(addWorkingDays(calendar, Date.parse(event.occurredAt), 1));
        forwardToSection47(event);
        return { rule: event.seenAlone ? 'R-6' : 'R-8' };
      }
      case 'home-visited':
        evidence.homeVisits.push({ eventId: event.eventId, occurredAt: event.occurredAt, bedroomSeen: event.bedroomSeen });
        return { rule: 'R-21' };
      case 'parent-seen':
        evidence.parentsSeen.push({
          eventId: event.eventId,
          occurredAt: event.occurredAt,
          parentRef: event.parentRef,
          relationship: event.relationship,
          viewsRecorded: event.viewsRecorded,
        });
        return { rule: 'R-9' };
      case 'agency-information-received':
        evidence.agencyInformation.push({ eventId: event.eventId, occurredAt: event.occurredAt, agency: event.agency });
        return { rule: 'R-21' };
      case 'analysis-completed':
        evidence.analyses.push({ eventId: event.eventId, occurredAt: event.occurredAt, sourceCount: new Set(event.sources).size });
        return { rule: 'R-21' };
      case 'consent-recorded':
        // a later refusal does not erase a manager's authorisation to share.
        if (event.given) consent = 'given';
        else if (!engine.integrity || consent !== 'overridden') consent = 'refused';
        return { rule: 'R-2' };
      case 'significant-harm-suspected':
        startStrategyDiscussion(event.type, Date.parse(event.occurredAt));
        followOn.circumstancesChanged('significant-harm-suspected', Date.parse(event.occurredAt));
        return { rule: 'R-13' };
      case 'crime-suspected':
        // immediately, ahead of anything else waiting to go out.
        sendNotification('police', 'crime-suspected', 'R-12', {}, true);
        sendNotification('manager', 'crime-suspected', 'R-12', {}, true);
        return { rule: 'R-12' };
      case 'not-in-education': {
        // An unknown age is treated as school age: a missed referral costs the child more than a spare one.
        sendNotification('education-welfare', 'not-in-education', 'R-11', {}, true);
        return { rule: 'R-11' };
      }
      case 'interpreter-needed':
        interpreter.needed = true;
        return { rule: 'R-10' };
      case 'interpreter-provided':
        interpreter.needed = true;
        interpreter.provided = true;
        engine.withdrawPrompts('interpreter-waiver', 'an interpreter was provided');
        return { rule: 'R-10' };
      case 'interpreter-waiver-requested':
        interpreter.waiver = 'requested';
        engine.raisePrompt('interpreter-waiver', 'R-10');
        return { rule: 'R-10' };
      case 'father-exclusion-requested':
        fatherExclusion = 'requested';
        engine.raisePrompt('exclude-father', 'R-9', { about: event.parentRef });
        return { rule: 'R-9' };
      case 'family-declined-engagement':
        familyDeclined = { eventId: event.eventId, occurredAt: event.occurredAt, attempts: event.attempts.length };
        return { rule: 'R-17' };
      case 'needs-identified':
        servicesReferred.push(event.service);
        // referred at once, without waiting for the conclusion.
        sendNotification('service', 'needs-identified', 'R-14', { target: event.service }, true);
        return { rule: 'R-14' };
      case 'assessment-submitted':
        stage = 'awaiting-sign-off';
        submittedAt = event.occurredAt;
        // The prompt lists every checklist item with its rule: one form, however the checklist grows.
        engine.raisePrompt('sign-off', 'R-21', completionDueAt !== undefined ? { dueBy: completionDueAt, escalatedByWorkflow: true } : {}).checklist =
          signOffChecklist(engine.procedureChecks);
        return { rule: 'R-21' };
      case 'family-comments-recorded':
        // Recorded alongside the outcome, which they never rewrite.
        familyComments.push({ eventId: event.eventId, occurredAt: event.occurredAt });
        return { rule: 'R-24' };
      case 'new-information':
        followOn.onNewInformationAfterCompletion(event);
        return askAboutNewInformation(Date.parse(event.occurredAt));
      case 'child-protection-conference-held':
        forwardToSection47(event);
        return { rule: 'R-27' };
    }
  };

  // ---- decisions ----

  const applyDecision = (prompt: Prompt, decision: AnyDecision) => {
    const entry: DecisionEntry = {
      promptId: prompt.promptId,
      kind: prompt.kind,
      rule: prompt.rule,
      decision: decision.decision,
      decidedBy: decision.decidedBy,
      decidedAt: decision.decidedAt,
      rationale: decision.rationale,
    };
    if (stage === 'completed') subsequentDecisions.push(entry);
    else decisions.push(entry);
    const decidedAtMs = Date.parse(decision.decidedAt);

    switch (prompt.kind) {
      case 'allocation': {
        const allocation = decision as DecisionFor<'allocation'>;
        socialWorkerId = allocation.socialWorkerId;
        track = strategyDiscussionRunning() ? 'S47' : allocation.track;
        assessmentType = allocation.assessmentType;
        timescale = timescaleWorkingDays(policy, allocation.assessmentType, allocation.timescaleWorkingDays);
        team = allocation.team ?? input.team;
        allocatedAt = allocation.decidedAt;
        if (allocation.primaryNeedCode !== undefined) primaryNeedCode = allocation.primaryNeedCode;
        stage = 'in-progress';
        followOn.onAllocated(decidedAtMs);
        if (engine.integrity) {
          overdue.allocation = false;
          engine.clearDeadline('allocation');
          engine.withdrawPrompts('escalation', 'the assessment was allocated', 'allocation');
        }
        completion = completionDue(calendar, policy, receivedAtMs, timescale, child.expectedDeliveryDate, engine.integrity);
        setCompletionDue(completion.completionDueAt);
        // a strategy discussion running makes the visit a section 47 one (24 hours).
        originalVisitDueAt = visitDue(calendar, policy, engine.integrity ? track : allocation.track, decidedAtMs, {
          hours: allocation.visitWithinHours,
          workingDays: allocation.visitWithinWorkingDays,
        });
        if (childSeenAt === undefined) scheduleVisit(originalVisitDueAt);
        else visitDueAt = originalVisitDueAt;
        askForSupervisionReview(addDaysInUnit(calendar, receivedAtMs, policy.supervisionReviewWorkingDays, policy.supervisionReviewUnit));
        checks.onAllocated(allocation, originalVisitDueAt);
        sendCaseRecord('allocation', {
          socialWorkerId,
          track,
          assessmentType,
          timescaleWorkingDays: timescale,
          allocatedAt,
          completionDueAt: iso(completion.completionDueAt),
          visitDueAt: iso(originalVisitDueAt),
          team,
        });
        return;
      }
      case 'visit-overdue':
        if (decision.decision === 'reschedule') {
          scheduleVisit(Date.parse((decision as Extract<DecisionFor<'visit-overdue'>, { decision: 'reschedule' }>).visitDueAt));
        } else {
          childNotToBeSeen = true;
          overdue.visit = false;
          engine.clearDeadline('visit');
        }
        return;
      case 'exclude-father':
        fatherExclusion = decision.decision === 'approve' ? 'approved' : 'refused';
        return;
      case 'interpreter-waiver':
        interpreter.waiver = decision.decision === 'approve' ? 'approved' : 'refused';
        return;
      case 'supervision-review':
        overdue.supervisionReview = false;
        engine.clearDeadline('supervision-review');
        engine.withdrawPrompts('escalation', 'the supervision review took place', 'supervision-review');
        if (decision.decision === 'extend-to-complex') {
          if (assessmentType === 'brief') extendToComplex();
          else engine.log({ source: 'engine', type: 'already-complex', ref: prompt.promptId, status: 'applied', rule: 'R-18' });
        }
        if (decision.decision === 'strategy-discussion') startStrategyDiscussion('supervision-review', decidedAtMs);
        return;
      case 'extend-to-complex':
        if (decision.decision === 'approve') extendToComplex();
        return;
      case 'exceed-timescale':
        if (decision.decision === 'approve') {
          setCompletionDue(Date.parse((decision as Extract<DecisionFor<'exceed-timescale'>, { decision: 'approve' }>).completionDueAt), Date.now());
        }
        return;
      case 'sign-off':
        if (decision.decision === 'return-to-worker') {
          stage = 'in-progress';
          submittedAt = undefined;
          return;
        }
        signOff(decision as SignOffDecision);
        return;
      case 'duty-decision':
        if (decision.decision === 'strategy-discussion') startStrategyDiscussion('new-information', decidedAtMs);
        engine.clearDeadline('new-information');
        engine.withdrawPrompts('escalation', 'the duty decision was taken', 'new-information');
        sendCaseRecord('subsequent-decision', { promptId: prompt.promptId, decision: decision.decision, decidedBy: decision.decidedBy, decidedAt: decision.decidedAt });
        return;
      default:
        followOn.onDecision(prompt, decision);
        return;
    }
  };

  const signOff = (decision: SignOffDecision) => {
    stage = 'completed';
    completedAt = decision.decidedAt;
    determinations = decision.determinations;
    outcome = decision.outcome;
    checklist = decision.checklist;
    signedOffBy = decision.decidedBy;
    // Absent from sign-offs made before the census items were asked for.
    primaryNeedCode = decision.primaryNeedCode as string | undefined;
    assessmentFactors = decision.assessmentFactors as string[] | undefined;
    overdue.visit = false;
    overdue.completion = false;
    overdue.supervisionReview = false;
    for (const name of ['visit', 'supervision-review', 'extension-warning', 'completion']) engine.clearDeadline(name);
    for (const kind of ['supervision-review', 'visit-overdue', 'extend-to-complex', 'exceed-timescale', 'exclude-father', 'interpreter-waiver'] as const) {
      engine.withdrawPrompts(kind, 'the assessment was signed off');
    }
    if (engine.integrity) {
      // What the sign-off settles is no longer escalated (the record keeps the breaches).
      engine.clearDeadline('statutory-completion');
      engine.clearDeadline('breach-reminder');
      for (const about of ['completion', 'statutory-completion', 'visit', 'supervision-review']) {
        engine.withdrawPrompts('escalation', 'the assessment was signed off', about);
      }
    }
    reviewWindowEndsAt = Date.now() + policy.reviewWindowDays * DAY_MS;
    engine.setDeadline('review-window', reviewWindowEndsAt, onReviewWindowEnd);

    // outcomes that act at once.
    if (outcome === 'emergency-action') {
      sendNotification('police', 'emergency-action', 'R-23', {}, true);
      sendNotification('manager', 'emergency-action', 'R-23', {}, true);
    }
    if (outcome === 'strategy-discussion') startStrategyDiscussion('sign-off-outcome', Date.parse(decision.decidedAt));
    if (engine.integrity) {
      // emergency action is followed by a strategy discussion and a section 47 enquiry.
      if (outcome === 'emergency-action') startStrategyDiscussion('emergency-action-outcome', Date.parse(decision.decidedAt));
      // Outcomes that start work elsewhere: the case system and the worker are told to start it.
      if (outcome === 'child-in-need-plan' || outcome === 'early-help' || outcome === 'specialist-assessment') {
        sendCaseRecord('follow-on-required', { outcome, decidedAt: decision.decidedAt, socialWorkerId });
        sendNotification('social-worker', `start-${outcome}`, 'R-23', {}, true);
      }
    }
    // the outcome starts its follow-on (cases since the outcomes-follow-on change).
    followOn.onSignOff(decision);
    sendCaseRecord('assessment-outcome', {
      outcome,
      determinations,
      completedAt,
      completionDueAt: completionDueAt !== undefined ? iso(completionDueAt) : undefined,
      completedWithinTimescale: completedWithinTimescale(),
      workingDaysToComplete: workingDaysToComplete(),
      checklistMet: Object.fromEntries(Object.entries(decision.checklist).map(([item, answer]) => [item, answer.met])),
      section20Considered: decision.section20Considered,
      signedOffBy,
    });
    shareOutcome(decision);
  };

  /** the written outcome, to whom it goes and, where it does not, why (a recorded exception). */
  const shareOutcome = (decision: SignOffDecision) => {
    const share = (recipient: Notification['recipient'], target?: string) => {
      outcomeSharing.push({ recipient, status: 'sent', ...(target ? { target } : {}) });
      sendNotification(recipient, 'assessment-outcome', 'R-24', target ? { target } : {});
    };
    const hold = (recipient: Notification['recipient'], status: 'withheld' | 'not-sent', reason: string) => {
      outcomeSharing.push({ recipient, status, reason });
      engine.log({ source: 'engine', type: `outcome-${status}`, status: 'applied', rule: 'R-24', reason: `${recipient}: ${reason}` });
    };
    if (decision.withholdFromFamily) hold('family', 'withheld', "the manager's decision: sharing would put the child at risk or jeopardise an enquiry");
    else if (familyDeclined) hold('family', 'withheld', 'the family declined to engage (R-17)');
    else share('family');
    const completedOn = localDateOf(calendar, Date.parse(decision.decidedAt));
    if (decision.withholdFromFamily) hold('child', 'withheld', "the manager's decision to withhold the outcome from the family covers the child");
    else if (childReceivesOutcome(child, completedOn)) share('child');
    else hold('child', 'not-sent', child.dateOfBirth ? 'the child is under 12' : 'the child’s age is not known');
    if (input.referrerType === 'anonymous') hold('referrer', 'not-sent', 'the referral was anonymous');
    else share('referrer');
    for (const service of [...new Set(servicesReferred)]) share('agency', service);
  };

  const validateDecision = (prompt: Prompt, decision: AnyDecision): string | undefined => {
    if (prompt.kind === 'sign-off' && decision.decision === 'sign-off') {
      const refusal = signOffRefusal(decision as SignOffDecision, evidence, homeless16Or17, checks.checklistEvidence());
      if (refusal) return refusal;
    }
    // The checks of the record first (issue 18), then what the outcome needs to start its follow-on (issue 17).
    const procedureRefusal = checks.validateDecision(prompt, decision);
    if (procedureRefusal) return procedureRefusal;
    if (prompt.kind === 'sign-off' && decision.decision === 'sign-off') {
      const outcomeRefusal = followOn.signOffRefusal(decision as SignOffDecision);
      if (outcomeRefusal) return outcomeRefusal;
    }
    const followOnRefusal = followOn.validateDecision(prompt, decision);
    if (followOnRefusal) return followOnRefusal;
    if (prompt.kind === 'exceed-timescale' && decision.decision === 'approve') {
      const requested = Date.parse((decision as Extract<DecisionFor<'exceed-timescale'>, { decision: 'approve' }>).completionDueAt);
      if (completionDueAt !== undefined && requested <= completionDueAt) {
        return `R-19: the new completion date must be later than the current one (${iso(completionDueAt)})`;
      }
    }
    return undefined;
  };

  // ---- state and search attributes ----

  const state = (): AssessmentState => ({
    workflowId: engine.workflowId,
    referralId: input.referralId,
    childRef: child.childRef,
    stage,
    track,
    assessmentType,
    timescaleWorkingDays: timescale,
    socialWorkerId,
    team,
    managerId: input.managerId,
    consent,
    receivedAt: input.receivedAt,
    allocationDueAt: allocationDueAt !== undefined ? iso(allocationDueAt) : undefined,
    allocatedAt,
    visitDueAt: visitDueAt !== undefined ? iso(visitDueAt) : undefined,
    originalVisitDueAt: originalVisitDueAt !== undefined ? iso(originalVisitDueAt) : undefined,
    childSeenAt,
    childNotToBeSeen,
    seenWithinTimescale: seenWithinTimescale(),
    supervisionReviewDueAt: supervisionReviewDueAt !== undefined ? iso(supervisionReviewDueAt) : undefined,
    completionDueAt: completionDueAt !== undefined ? iso(completionDueAt) : undefined,
    statutoryCompletionDueAt: statutoryCompletionDueAt !== undefined ? iso(statutoryCompletionDueAt) : undefined,
    normalCompletionDueAt: completion ? iso(completion.normalDueAt) : undefined,
    preBirthCompletionDueAt: completion?.preBirthDueAt !== undefined ? iso(completion.preBirthDueAt) : undefined,
    submittedAt,
    completedAt,
    completedWithinTimescale: completedWithinTimescale(),
    workingDaysToComplete: workingDaysToComplete(),
    reviewWindowEndsAt: reviewWindowEndsAt !== undefined ? iso(reviewWindowEndsAt) : undefined,
    overdue: { ...overdue },
    breaches,
    evidence,
    checklistEvidence: { ...checklistEvidence(evidence), ...checks.checklistEvidence() } as Record<ChecklistItem, ItemEvidence>,
    procedure: checks.state(),
    interpreter,
    fatherExclusion,
    familyDeclined,
    servicesReferred,
    homeless16Or17,
    determinations,
    outcome,
    checklist,
    signedOffBy,
    census: census(),
    outcomeSharing,
    familyComments,
    strategyDiscussions,
    followOn: followOn.state(),
    decisions,
    subsequentDecisions,
    deadlines: engine.pendingDeadlines(),
    prompts: engine.prompts,
    openPrompts: engine.openPrompts(),
    record: engine.record,
  });

  const searchAttributes = (): SearchAttributeUpdatePair[] => {
    const pairs: SearchAttributeUpdatePair[] = [
      { key: StageKey, value: stage },
      { key: TrackKey, value: track },
      { key: ReferralIdKey, value: input.referralId },
      { key: OverdueKey, value: overdue.allocation || overdue.visit || overdue.completion || overdue.supervisionReview },
    ];
    if (team) pairs.push({ key: TeamKey, value: team });
    if (input.managerId) pairs.push({ key: ManagerIdKey, value: input.managerId });
    if (input.localAuthority) pairs.push({ key: LocalAuthorityKey, value: input.localAuthority });
    if (completionDueAt !== undefined) pairs.push({ key: CompletionDueAtKey, value: new Date(completionDueAt) });
    if (visitDueAt !== undefined) pairs.push({ key: VisitDueAtKey, value: new Date(visitDueAt) });
    const seen = seenWithinTimescale();
    if (seen !== undefined) pairs.push({ key: SeenWithinTimescaleKey, value: seen });
    if (completedAt !== undefined) {
      pairs.push({ key: CompletedAtKey, value: new Date(completedAt) });
      pairs.push({ key: CompletedWithinTimescaleKey, value: completedWithinTimescale() ?? false });
      pairs.push({ key: WorkingDaysToCompleteKey, value: workingDaysToComplete() ?? 0 });
      const censusDays = census().workingDaysStartToAuthorisation;
      if (engine.censusMeasures && censusDays !== undefined) pairs.push({ key: CensusWorkingDaysKey, value: censusDays });
    }
    pairs.push(...checks.searchAttributes());
    return pairs;
  };

  /** Why this event cannot be taken now (the stage, or a rule), with no change made; undefined when it can. */
  const refuseEvent = (event: DomainEvent): { rejected: string; rule?: string } | undefined => {
    if (checks.handles(event.type)) return checks.refuseEvent(event);
    if (followOn.owns(event.type)) return followOn.refuseEvent(event);
    const misfit = (engine.integrity ? eventMisfitWithIntegrity : eventMisfit)(event.type, stage, strategyDiscussionRunning());
    if (misfit) return { rejected: misfit };
    if (event.type === 'not-in-education' && isSchoolAge(child, localDateOf(calendar, Date.parse(event.occurredAt))) === false) {
      return { rejected: 'R-11: the child is not of school age', rule: 'R-11' };
    }
    if (event.type === 'assessment-submitted' && interpreter.needed && !interpreter.provided && interpreter.waiver !== 'approved') {
      return { rejected: 'R-10: an interpreter is needed: provide one or get the manager to approve a waiver before submitting', rule: 'R-10' };
    }
    return checks.refuseEvent(event);
  };

  // the referral passes on a manager's authorisation to share without consent.
  setHandler(consentOverriddenSignal, (override) => {
    consent = 'overridden';
    engine.log({ source: 'engine', type: 'consent-overridden', ref: override.promptId, actor: override.decidedBy, status: 'applied', rule: 'R-2' });
  });

  engine.installHandlers({
    refuseEvent,
    onEvent(event: DomainEvent): EventVerdict {
      const refusal = refuseEvent(event);
      if (refusal) return refusal;
      const verdict = (checks.handles(event.type) ? checks.onEvent(event) : applyEvent(event)) ?? {};
      if ('rejected' in verdict) return verdict;
      checks.afterEvent(event);
      // recorded later than the policy allows is flagged, never refused.
      if (isLateRecording(calendar, policy, event.occurredAt, event.recordedAt)) return { rule: verdict.rule ?? 'R-16', lateRecording: true };
      return verdict;
    },
    onDecision(prompt: Prompt, decision: AnyDecision) {
      applyDecision(prompt, decision);
      checks.afterDecision(prompt, decision);
    },
    validateDecision,
    state,
    searchAttributes,
  });

  // the manager allocates; R-13: the duty decision may call a strategy discussion at once.
  if (engine.integrity) {
    // The allocation is due within the policy's working days of the duty decision, and the
    // statutory clock runs from the referral whether or not anyone allocates.
    const startedAtMs = input.dutyDecidedAt !== undefined ? Date.parse(input.dutyDecidedAt) : Date.now();
    // an unborn child's assessment commences within the authority's time, where it set one.
    const preBirthCommence = engine.procedureChecks && child.expectedDeliveryDate ? policy.preBirthCommenceWorkingDays : undefined;
    allocationDueAt = addWorkingDays(calendar, startedAtMs, preBirthCommence ?? policy.allocationWorkingDays ?? 1);
    const allocationPrompt = engine.raisePrompt('allocation', 'R-4', { dueBy: allocationDueAt, escalatedByWorkflow: true });
    engine.setDeadline('allocation', allocationDueAt, () => {
      if (allocationPrompt.status !== 'open') return;
      overdue.allocation = true;
      allocationPrompt.overdue = true;
      const escalation = engine.raisePrompt('escalation', 'R-4', { about: 'allocation' });
      sendNotification('manager', 'allocation-overdue', 'R-4', { promptId: escalation.promptId });
    });
    completion = completionDue(calendar, policy, receivedAtMs, STATUTORY_MAXIMUM_WORKING_DAYS, child.expectedDeliveryDate, true);
    statutoryCompletionDueAt = completion.normalDueAt;
    setCompletionDue(completion.completionDueAt);
    // a strategy discussion the duty decision called is called when that decision was taken.
    if (input.strategyDiscussionNow) startStrategyDiscussion('strategy-discussion-now', startedAtMs);
  } else {
    engine.raisePrompt('allocation', 'R-4');
    if (input.strategyDiscussionNow) startStrategyDiscussion('strategy-discussion-now', receivedAtMs);
  }

  const finished = () =>
    stage === 'completed' && reviewWindowOver && !strategyDiscussionRunning() && engine.openPrompt('duty-decision') === undefined && !followOn.keepsOpen();
  await engine.run(finished);
  // Nothing waits on this record any more: what is still open is withdrawn, not left dangling.
  for (const prompt of engine.openPrompts()) engine.withdrawPrompts(prompt.kind, 'the review window closed');
  await engine.run(() => true);
  return { childRef: child.childRef, stage, outcome, completedAt };
}
