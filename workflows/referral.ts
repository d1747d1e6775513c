/**
 * A referral: the duty manager decides how to respond within one
 * working day (sooner with a child protection concern); a decision for assessment starts
 * one assessment per child, as child workflows, and the referral closes when they all have.
 * The working calendar (bank holidays, UTC offsets) is loaded once here, by activity, so
 * the history records it, and handed to every child workflow.
 */
import { getExternalWorkflowHandle, isCancellation, ParentClosePolicy, startChild } from '@temporalio/workflow';
import { ageInYears, isHomeless16Or17, localDateOf } from '../domain/assessment-rules';
import { dutyDecisionCountsHours, youngPersonHomeless } from '../domain/procedure-checks';
import type { DomainEvent } from '../domain/events';
import { assessmentWorkflowId, referralWorkflowId } from '../domain/ids';
import { authorityPolicySchema, type AuthorityPolicy } from '../domain/policy';
import type { AssessmentInput, AssessmentResult, ConsentStatus, Track } from '../domain/process';
import type { AnyDecision, Prompt } from '../domain/prompts';
import type { RecordEntry } from '../domain/record';
import type { ReferralInput, ReferralRequest } from '../domain/referral';
import { addHours, addWorkingDays, calendarServes, caseCalendarYears, type WorkingCalendar } from '../domain/working-days';
import { loadWorkingCalendar } from './activity-proxies';
import { assessmentWorkflow } from './assessment';
import { CaseEngine, type EventVerdict, type PendingDeadline } from './engine';
import { consentOverriddenSignal, eventSignal } from './messages';
import { createOutbound } from './outbound';
import { applyPromptTiming } from './prompt-timing';
import { ChildRefKey, LocalAuthorityKey, ManagerIdKey, OverdueKey, ReferralIdKey, StageKey, TeamKey } from './search-attributes';

export { referralWorkflowId };

export type ReferralStage = 'awaiting-duty-decision' | 'assessments-running' | 'closed';

/** Duty decisions that close the referral without an assessment. */
const CLOSING_DECISIONS = ['no-further-action', 'information-and-advice', 'early-help'];

export interface ChildAssessment {
  childRef: string;
  workflowId: string;
  status: 'starting' | 'running' | 'completed' | 'failed';
  result?: AssessmentResult;
  failure?: string;
}

export interface ReferralState {
  workflowId: string;
  referralId: string;
  stage: ReferralStage;
  receivedAt: string;
  childProtectionConcern: boolean;
  /** Who referred (the census's ReferralSource is mapped from it unless referralSourceCode says). */
  referrerType: ReferralInput['referrerType'];
  /** The DfE ReferralSource code, where the case system sent it. */
  referralSourceCode?: string;
  /** The referral's children: an NFA referral has no assessment to name them. */
  childRefs: string[];
  policy: AuthorityPolicy;
  dutyDecisionDueAt?: string;
  dutyDecisionOverdue: boolean;
  dutyDecision?: { decision: string; decidedBy: string; decidedAt: string };
  consent: ConsentStatus;
  /** children aged 16 or 17 who are homeless or at risk of it: they must be assessed. */
  mustBeAssessed: string[];
  /** R-1 (section 10): to whom the duty decision went, and why not to the parents where it did not (procedure-checks). */
  dutyDecisionCommunicated?: Array<{ recipient: 'referrer' | 'family'; status: 'sent' | 'not-sent'; reason?: string }>;
  assessments: ChildAssessment[];
  /** The years the working calendar of this case covers (bank holidays, clock changes). */
  calendarYears?: { from: number; to: number };
  /** The pending deadlines, earliest first. */
  deadlines: PendingDeadline[];
  prompts: Prompt[];
  openPrompts: Prompt[];
  record: RecordEntry[];
}

/** Takes the request as sent (its policy partial or absent): the defaults are filled in and pinned here. */
/** What the referral workflow is started with: the request, and the working calendar the API built for it (absent from older starts). */
export type ReferralStart = ReferralRequest & { workingCalendar?: WorkingCalendar };

export async function referralWorkflow(input: ReferralStart): Promise<ReferralState> {
  const engine = new CaseEngine();
  const outbound = createOutbound(engine, { referralId: input.referralId });
  // The policy in force when the referral arrived is pinned for the life of the case.
  const policy = authorityPolicySchema.parse(input.policy ?? {});
  const receivedAtMs = Date.parse(input.receivedAt);

  let stage: ReferralStage = 'awaiting-duty-decision';
  // Set once the calendar activity has answered (closures below read them).
  const loaded: { calendar?: WorkingCalendar; dutyDecisionDueAt?: number } = {};
  let dutyDecisionOverdue = false;
  let dutyDecision: ReferralState['dutyDecision'];
  let consent: ConsentStatus = 'unknown';
  let mustBeAssessed: string[] = [];
  let dutyDecisionCommunicated: ReferralState['dutyDecisionCommunicated'];
  const assessments: ChildAssessment[] = [];

  const state = (): ReferralState => ({
    workflowId: engine.workflowId,
    referralId: input.referralId,
    stage,
    receivedAt: input.receivedAt,
    childProtectionConcern: input.childProtectionConcern,
    referrerType: input.referrerType,
    referralSourceCode: input.referralSourceCode,
    childRefs: input.children.map((child) => child.childRef),
    policy,
    dutyDecisionDueAt: loaded.dutyDecisionDueAt === undefined ? undefined : new Date(loaded.dutyDecisionDueAt).toISOString(),
    dutyDecisionOverdue,
    dutyDecision,
    consent,
    mustBeAssessed,
    dutyDecisionCommunicated,
    assessments,
    calendarYears: loaded.calendar ? { from: loaded.calendar.fromYear, to: loaded.calendar.toYear } : undefined,
    deadlines: engine.pendingDeadlines(),
    prompts: engine.prompts,
    openPrompts: engine.openPrompts(),
    record: engine.record,
  });

  const close = (reason: string) => {
    stage = 'closed';
    engine.clearDeadline('duty-decision');
    engine.withdrawPrompts('escalation', reason);
    engine.withdrawPrompts('consent-override', reason);
  };

  // ---- one assessment per child ----

  const startAssessments = (track: Track, strategyDiscussionNow: boolean) => {
    const { calendar } = loaded;
    if (!calendar) throw new Error('unreachable: the calendar is loaded before any prompt is raised');
    stage = 'assessments-running';
    const householdChildRefs = input.children.map((child) => child.childRef);
    for (const child of input.children) {
      const entry: ChildAssessment = { childRef: child.childRef, workflowId: assessmentWorkflowId(input.referralId, child.childRef, engine.idScheme), status: 'starting' };
      assessments.push(entry);
      const assessmentInput: AssessmentInput = {
        referralId: input.referralId,
        receivedAt: input.receivedAt,
        referrerType: input.referrerType,
        childProtectionConcern: input.childProtectionConcern,
        team: input.team,
        managerId: input.managerId,
        localAuthority: input.localAuthority,
        policy,
        calendar,
        idScheme: engine.idScheme,
        child,
        track,
        strategyDiscussionNow,
        consent,
        householdChildRefs,
        // The strategy discussion a duty decision calls is called when that decision is taken.
        ...(engine.integrity && dutyDecision ? { dutyDecidedAt: dutyDecision.decidedAt } : {}),
        // R-3 (section 10): the first child's assessment asks the manager about each other child of the household.
        ...(engine.procedureChecks && child === input.children[0] && input.otherHouseholdChildren?.length ? { otherHouseholdChildren: input.otherHouseholdChildren } : {}),
      };
      engine.later(async () => {
        try {
          const handle = await startChild(assessmentWorkflow, {
            workflowId: entry.workflowId,
            args: [assessmentInput],
            // Each child's assessment is a statutory process of its own: it goes on even if
            // this referral's workflow is ended by operations.
            parentClosePolicy: ParentClosePolicy.ABANDON,
            // a later referral of the same child finds this assessment by it (an attribute of the start, not a command of its own).
            typedSearchAttributes: [{ key: ChildRefKey, value: child.childRef }],
          });
          entry.status = 'running';
          engine.log({ source: 'engine', type: 'assessment-started', ref: entry.workflowId, status: 'applied', rule: 'R-3' });
          // Awaited in the background: the referral goes on answering messages meanwhile.
          handle.result().then(
            (result) =>
              engine.later(async () => {
                entry.status = 'completed';
                entry.result = result;
                engine.log({ source: 'engine', type: 'assessment-completed', ref: entry.workflowId, status: 'applied', rule: 'R-3', reason: result.outcome });
              }),
            (error: unknown) =>
              engine.later(async () => {
                entry.status = 'failed';
                entry.failure = error instanceof Error ? error.message : String(error);
                engine.log({ source: 'engine', type: 'assessment-failed', ref: entry.workflowId, status: 'rejected', rule: 'R-3' });
                outbound.notify('manager', 'assessment-failed', 'R-3');
              }),
          );
        } catch (error) {
          if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
          entry.status = 'failed';
          entry.failure = error instanceof Error ? error.message : String(error);
          engine.log({ source: 'engine', type: 'assessment-failed', ref: entry.workflowId, status: 'rejected', rule: 'R-3' });
          outbound.notify('manager', 'assessment-failed', 'R-3');
        }
        // Keyed by the assessment: what is forwarded to it waits until it has started.
      }, { key: `child:${entry.workflowId}` });
    }
  };

  /** Consent learnt after the assessments started goes to each of them. */
  const forwardToAssessments = (event: DomainEvent) => {
    for (const entry of assessments.filter((candidate) => candidate.status === 'running' || candidate.status === 'starting')) {
      engine.later(async () => {
        try {
          await getExternalWorkflowHandle(entry.workflowId).signal(eventSignal, event);
        } catch (error) {
          if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
          engine.log({ source: 'engine', type: 'event-not-forwarded', ref: event.eventId, status: 'rejected', reason: entry.workflowId });
        }
      }, { key: `child:${entry.workflowId}` });
    }
  };

  /** a manager's authorisation to share without consent goes to the assessments already running. */
  const forwardOverride = (override: { promptId: string; decidedBy: string; decidedAt: string }) => {
    for (const entry of assessments.filter((candidate) => candidate.status === 'running' || candidate.status === 'starting')) {
      engine.later(async () => {
        try {
          await getExternalWorkflowHandle(entry.workflowId).signal(consentOverriddenSignal, override);
        } catch (error) {
          if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
          engine.log({ source: 'engine', type: 'consent-override-not-forwarded', ref: override.promptId, status: 'rejected', rule: 'R-2', reason: entry.workflowId });
        }
      }, { key: `child:${entry.workflowId}` });
    }
  };

  const refuseEvent = (event: DomainEvent): { rejected: string } | undefined => {
    if (stage === 'closed') return { rejected: 'the referral is closed' };
    if (event.type !== 'consent-recorded') {
      return {
        rejected:
          stage === 'assessments-running'
            ? `send ${event.type} events to the child's assessment (${assessmentWorkflowId(input.referralId, '<childRef>', engine.idScheme)})`
            : `a ${event.type} event does not fit a referral awaiting its duty decision`,
      };
    }
    return undefined;
  };

  engine.installHandlers({
    refuseEvent,
    onEvent(event: DomainEvent): EventVerdict {
      const refusal = refuseEvent(event);
      if (refusal) return refusal;
      if (event.type !== 'consent-recorded') return;
      if (event.given) {
        consent = 'given';
        engine.withdrawPrompts('consent-override', 'consent was given');
      } else if (consent !== 'overridden') {
        consent = 'refused';
        // sharing without consent only on a manager's recorded authorisation.
        engine.raisePrompt('consent-override', 'R-2');
      }
      forwardToAssessments(event);
      return { rule: 'R-2' };
    },
    validateDecision(prompt: Prompt, decision: AnyDecision) {
      if (prompt.kind === 'duty-decision' && CLOSING_DECISIONS.includes(decision.decision) && mustBeAssessed.length > 0) {
        return `R-28: a 16 or 17 year old who is homeless or at risk of it must be assessed (${mustBeAssessed.join(', ')}): choose single-assessment or strategy-discussion`;
      }
      return undefined;
    },
    onDecision(prompt: Prompt, decision: AnyDecision) {
      switch (prompt.kind) {
        case 'duty-decision': {
          dutyDecision = { decision: decision.decision, decidedBy: decision.decidedBy, decidedAt: decision.decidedAt };
          engine.clearDeadline('duty-decision');
          engine.withdrawPrompts('escalation', 'the duty decision was made', 'duty-decision');
          outbound.caseRecord('duty-decision', { decision: decision.decision, decidedAt: decision.decidedAt });
          if (engine.procedureChecks) {
            // R-1 (section 10): the referrer and the parent or carer are told; not telling the parent needs the reason.
            dutyDecisionCommunicated = [];
            if (input.referrerType === 'anonymous') dutyDecisionCommunicated.push({ recipient: 'referrer', status: 'not-sent', reason: 'the referral was anonymous' });
            else {
              dutyDecisionCommunicated.push({ recipient: 'referrer', status: 'sent' });
              // A closing decision already told the referrer (below), as it always has.
              if (!CLOSING_DECISIONS.includes(decision.decision)) outbound.notify('referrer', `duty-decision-${decision.decision}`, 'R-1', { promptId: prompt.promptId });
            }
            const notToldReason = (decision as { parentsNotToldReason?: string }).parentsNotToldReason;
            if (policy.dutyDecisionToParents === false) dutyDecisionCommunicated.push({ recipient: 'family', status: 'not-sent', reason: "not required by the authority's policy" });
            else if (notToldReason) dutyDecisionCommunicated.push({ recipient: 'family', status: 'not-sent', reason: notToldReason });
            else {
              dutyDecisionCommunicated.push({ recipient: 'family', status: 'sent' });
              outbound.notify('family', `duty-decision-${decision.decision}`, 'R-1', { promptId: prompt.promptId });
            }
          }
          if (CLOSING_DECISIONS.includes(decision.decision)) {
            outbound.notify('referrer', `duty-decision-${decision.decision}`, 'R-1', { promptId: prompt.promptId });
            close(`the duty decision was ${decision.decision}`);
          } else {
            startAssessments(decision.decision === 'strategy-discussion' ? 'S47' : 'S17', decision.decision === 'strategy-discussion');
          }
          return;
        }
        case 'consent-override':
          // the authorisation and its reasons (the rationale) are on the record.
          consent = decision.decision === 'approve' ? 'overridden' : 'refused';
          outbound.caseRecord('consent-override', { decision: decision.decision, decidedAt: decision.decidedAt });
          if (engine.integrity && decision.decision === 'approve') {
            forwardOverride({ promptId: prompt.promptId, decidedBy: decision.decidedBy, decidedAt: decision.decidedAt });
          }
          return;
        default:
          return;
      }
    },
    state,
    searchAttributes: () => [
      { key: StageKey, value: stage },
      // Listed among what is overdue (cases started since the deadline-integrity change).
      ...(engine.integrity ? [{ key: OverdueKey, value: dutyDecisionOverdue && stage === 'awaiting-duty-decision' }] : []),
      { key: ReferralIdKey, value: input.referralId },
      ...(input.team ? [{ key: TeamKey, value: input.team }] : []),
      ...(input.managerId ? [{ key: ManagerIdKey, value: input.managerId }] : []),
      ...(input.localAuthority ? [{ key: LocalAuthorityKey, value: input.localAuthority }] : []),
    ],
  });

  const receivedYear = new Date(receivedAtMs).getUTCFullYear();
  // A back-dated (migrated) referral's case runs from its receipt until years from now:
  // the calendar covers both, so no working day of today is counted from weekends alone.
  const years = engine.integrity ? caseCalendarYears(receivedAtMs, Date.now()) : { fromYear: receivedYear - 1, toYear: receivedYear + 3 };
  const wanted = { region: policy.bankHolidayRegion, timeZone: policy.timeZone, ...years };
  // Since the quiet-engine patch the API passes the calendar in with the referral, so the
  // duty decision prompt opens in the first workflow task, not after an activity's round
  // trip; one that does not serve this case (or none) is loaded as before.
  const calendar = engine.quiet && input.workingCalendar && calendarServes(input.workingCalendar, wanted) ? input.workingCalendar : await loadWorkingCalendar(wanted);
  const referralDate = localDateOf(calendar, receivedAtMs);
  loaded.calendar = calendar;
  applyPromptTiming(engine, calendar, policy, outbound);
  engine.setDecisionsNotBefore(receivedAtMs);
  mustBeAssessed = input.children
    .filter(
      (child) =>
        isHomeless16Or17(child, referralDate) ||
        // R-28 (section 10): also a young person known to be 16 or 17 without a date of birth, or homeless by `homelessness`.
        (engine.procedureChecks && youngPersonHomeless(child, child.dateOfBirth ? ageInYears(child.dateOfBirth, referralDate) : undefined)),
    )
    .map((child) => child.childRef);

  // within one working day; sooner with a child protection concern. From the time the
  // referral was received, so a back-dated one whose deadline has passed escalates at once.
  const dutyDecisionDueAt = input.childProtectionConcern
    ? addHours(receivedAtMs, policy.dutyDecisionChildProtectionHours)
    : engine.procedureChecks && dutyDecisionCountsHours(policy)
      ? // R-1 (section 10): 002's "within 24 hours" as clock hours, where the policy counts it so.
        addHours(receivedAtMs, policy.dutyDecisionHours)
      : addWorkingDays(calendar, receivedAtMs, policy.dutyDecisionWorkingDays);
  loaded.dutyDecisionDueAt = dutyDecisionDueAt;
  const dutyPrompt = engine.raisePrompt('duty-decision', 'R-1', { dueBy: dutyDecisionDueAt, escalatedByWorkflow: true });
  // Added after the first release: referrals already running replay without it (patched()
  // is false for them), new ones tell the duty manager at once when a child may be at risk.
  if (engine.since('notify-duty-manager-of-child-protection-referral') && input.childProtectionConcern) {
    outbound.notify('manager', 'child-protection-referral-received', 'R-1', { promptId: dutyPrompt.promptId }, true);
  }
  engine.setDeadline('duty-decision', dutyDecisionDueAt, () => {
    if (dutyPrompt.status !== 'open') return;
    dutyDecisionOverdue = true;
    dutyPrompt.overdue = true;
    if (!engine.integrity) engine.log({ source: 'engine', type: 'deadline-passed', status: 'applied', rule: 'R-1', reason: 'duty-decision' });
    // The referral is never dropped: the duty-decision prompt stays open, and it escalates.
    const escalation = engine.raisePrompt('escalation', 'R-1', { about: 'duty-decision' });
    outbound.notify('manager', 'duty-decision-overdue', 'R-1', { promptId: escalation.promptId });
  });

  const allAssessmentsDone = () => assessments.length > 0 && assessments.every((entry) => entry.status === 'completed' || entry.status === 'failed');
  // Read through a function: handlers change `stage`, which the compiler cannot see here.
  const currentStage = (): ReferralStage => stage;
  await engine.run(() => currentStage() === 'closed' || (currentStage() === 'assessments-running' && allAssessmentsDone()));
  if (currentStage() !== 'closed') close('every assessment has completed');
  return state();
}
