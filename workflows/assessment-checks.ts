/**
 * The second reading's procedure checks in a running assessment (process-rules.md section 9:
 * ..; section 10: the extensions of,
 * ), wired into workflows/assessment.ts by a few lines. Everything here
 * runs only in cases started since the procedure-checks patch (`engine.procedureChecks`):
 * cases started before it replay and run as they did (their new event types are refused).
 *
 * Particular circumstances are special category data: they stay in the state and in the
 * (encrypted) payloads. Prompts about them share one kind, 'circumstance-response', so the
 * OpenPromptKinds search attribute never says which; notifications say only the rule.
 */
import { ParentClosePolicy, isCancellation, startChild } from '@temporalio/workflow';
import { ageInYears, localDateOf, type AssessmentStage, type ItemEvidence } from '../domain/assessment-rules';
import type { DomainEvent } from '../domain/events';
import { assessmentWorkflowId } from '../domain/ids';
import {
  agencyConsentInForce,
  emptyProcedureRecord,
  needsSection20Outcome,
  parentsEvidence,
  procedureChecklistEvidence,
  procedureEventRules,
  procedureEventTypes,
  youngPersonHomeless,
  type ProcedureEventType,
  type ProcedureRecord,
} from '../domain/procedure-checks';
import type { AssessmentInput, ConsentStatus } from '../domain/process';
import type { AnyDecision, ChecklistItem, DecisionFor, Prompt } from '../domain/prompts';
import { addWorkingDays } from '../domain/working-days';
import type { CaseEngine, EventVerdict } from './engine';
import type { Outbound } from './outbound';
import { AwaitingStepsKey } from './search-attributes';
import type { SearchAttributeUpdatePair } from '@temporalio/common';

/** What the assessment lends the checks: its state as it stands, and the few actions they may take. */
export interface ChecksHost {
  engine: CaseEngine;
  input: AssessmentInput;
  outbound: Outbound;
  stage(): AssessmentStage;
  consent(): ConsentStatus;
  /** a manager's authorisation to share without consent, given in this assessment. */
  consentOverridden(promptId: string, decidedBy: string): void;
  originalVisitDueAt(): number | undefined;
  fatherExclusion(): string | undefined;
  /** The household's children (the R-21 "all children seen" item lists them). */
  householdChildRefs: string[];
  startStrategyDiscussion(cause: string, calledAtMs: number): void;
  askForSupervisionReview(dueAt: number): void;
}

const ASSESSMENT_WORKFLOW_TYPE = 'assessmentWorkflow';

export interface ProcedureChecks {
  readonly active: boolean;
  /** Whether this event type is one of the second reading's (handled here, not by the assessment's switch). */
  handles(type: DomainEvent['type']): boolean;
  refuseEvent(event: DomainEvent): { rejected: string; rule?: string } | undefined;
  /** Applies one of the second reading's events. */
  onEvent(event: DomainEvent): EventVerdict;
  /** What the second reading adds to an event the assessment has just applied. */
  afterEvent(event: DomainEvent): void;
  /** After the assessment has applied a decision. */
  afterDecision(prompt: Prompt, decision: AnyDecision): void;
  validateDecision(prompt: Prompt, decision: AnyDecision): string | undefined;
  /** once allocated. */
  onAllocated(allocation: DecisionFor<'allocation'>, visitDueAtMs: number): void;
  /** The second reading's checklist items (and R-9's per-parent check), or undefined before the patch. */
  checklistEvidence(): Partial<Record<ChecklistItem, ItemEvidence>> | undefined;
  /** The AwaitingSteps search attribute (procedure-checks cases only; empty before the patch). */
  searchAttributes(): SearchAttributeUpdatePair[];
  /** R-28 (section 10): this young person must be assessed and their outcome records section 20. */
  readonly homelessYoungPerson: boolean;
  state(): ProcedureRecord | undefined;
}

export function createProcedureChecks(host: ChecksHost): ProcedureChecks {
  const { engine, input, outbound } = host;
  const { calendar, policy, child } = input;
  const active = engine.procedureChecks;
  const record = emptyProcedureRecord();
  const newTypes: ReadonlySet<string> = new Set<string>(procedureEventTypes);
  const receivedOn = localDateOf(calendar, Date.parse(input.receivedAt));
  const homelessYoungPerson = active && youngPersonHomeless(child, child.dateOfBirth ? ageInYears(child.dateOfBirth, receivedOn) : undefined);

  const awaiting = (rule: string, step: string, kind: 'time-not-set' | 'past-due', ref?: string) => {
    if (!record.awaiting.some((entry) => entry.rule === rule && entry.step === step && entry.ref === ref)) {
      record.awaiting.push({ rule, step, ...(ref !== undefined ? { ref } : {}), since: engine.now(), kind });
    }
  };
  const settled = (rule: string, step: string, ref?: string) => {
    const index = record.awaiting.findIndex((entry) => entry.rule === rule && entry.step === step && entry.ref === ref);
    if (index >= 0) record.awaiting.splice(index, 1);
  };
  // an unborn child's assessment commences at once; with no time set by the authority, listed as awaiting until allocated.
  if (active && child.expectedDeliveryDate && policy.preBirthCommenceWorkingDays === undefined) awaiting('R-20', 'commence', 'time-not-set');

  // ---- other children of the household ----

  const considerChild = (childRef: string, cause: string, dateOfBirth?: string) => {
    if (record.householdChildren.some((entry) => entry.childRef === childRef)) return;
    const prompt = engine.raisePrompt('consider-child', 'R-3', { about: childRef });
    record.householdChildren.push({ childRef, promptId: prompt.promptId, status: 'awaiting', cause });
    if (!host.householdChildRefs.includes(childRef)) host.householdChildRefs.push(childRef);
    pendingDatesOfBirth.set(childRef, dateOfBirth);
    outbound.notify('manager', 'household-child-to-consider', 'R-3', { promptId: prompt.promptId });
  };
  const pendingDatesOfBirth = new Map<string, string | undefined>();
  // R-3 (section 10): the other children of the household the referral listed are each considered.
  if (active) for (const other of input.otherHouseholdChildren ?? []) considerChild(other.childRef, 'listed-at-referral', other.dateOfBirth);

  const startSiblingAssessment = (entry: ProcedureRecord['householdChildren'][number], decidedAt: string) => {
    const workflowId = assessmentWorkflowId(input.referralId, entry.childRef, engine.idScheme);
    entry.workflowId = workflowId;
    const dateOfBirth = pendingDatesOfBirth.get(entry.childRef);
    const siblingInput: AssessmentInput = {
      ...input,
      child: { childRef: entry.childRef, ...(dateOfBirth ? { dateOfBirth } : {}) },
      track: 'S17',
      strategyDiscussionNow: false,
      consent: host.consent(),
      householdChildRefs: [...host.householdChildRefs],
      dutyDecidedAt: decidedAt,
    };
    engine.later(async () => {
      try {
        await startChild(ASSESSMENT_WORKFLOW_TYPE, { workflowId, args: [siblingInput], parentClosePolicy: ParentClosePolicy.ABANDON });
        engine.log({ source: 'engine', type: 'assessment-started', ref: workflowId, status: 'applied', rule: 'R-3' });
      } catch (error) {
        if (isCancellation(error)) throw error;
        engine.log({ source: 'engine', type: 'assessment-not-started', ref: workflowId, status: 'rejected', rule: 'R-3', reason: error instanceof Error ? error.message : String(error) });
        outbound.notify('manager', 'assessment-failed', 'R-3');
      }
    }, { key: `child:${workflowId}` });
  };

  // ---- R-37 (and R-2): agencies asked to contribute ----

  /** Asks an agency to contribute, from `askedAtMs` (the event or decision that allowed it). */
  const askAgency = (agency: ProcedureRecord['agencies'][number], askedAtMs: number) => {
    if (!agencyConsentInForce(record, host.consent())) {
      // neither consent nor a manager's authorisation in force: flagged with a manager prompt.
      agency.consentFlagged = true;
      const prompt = engine.raisePrompt('consent-override', 'R-2', { about: 'agency-contact' });
      outbound.notify('manager', 'agency-contact-without-consent', 'R-2', { promptId: prompt.promptId });
      return;
    }
    agency.consentFlagged = false;
    outbound.notify('agency', 'assessment-contribution-requested', 'R-37', { target: agency.agencyRef });
    if (policy.agencyReplyWorkingDays !== undefined) {
      const dueAt = addWorkingDays(calendar, askedAtMs, policy.agencyReplyWorkingDays);
      agency.replyDueAt = new Date(dueAt).toISOString();
      engine.setDeadline(`agency-reply:${agency.agencyRef}`, dueAt, () => {
        if (agency.status !== 'awaiting') return;
        awaiting('R-37', 'agency-reply-overdue', 'past-due', agency.agencyRef);
        outbound.notify('social-worker', 'agency-reply-overdue', 'R-37', { target: agency.agencyRef });
      });
    } else {
      // No time in the seeds and none set by the authority: listed as awaiting, never dropped.
      awaiting('R-37', 'agency-reply', 'time-not-set', agency.agencyRef);
    }
  };

  const replied = (agencyRef: string, status: 'replied' | 'not-consulted') => {
    const agency = record.agencies.find((candidate) => candidate.agencyRef === agencyRef);
    if (!agency) return;
    agency.status = status;
    engine.clearDeadline(`agency-reply:${agencyRef}`);
    settled('R-37', 'agency-reply', agencyRef);
    settled('R-37', 'agency-reply-overdue', agencyRef);
  };

  const refuseEvent = (event: DomainEvent): { rejected: string; rule?: string } | undefined => {
    const stage = host.stage();
    if (newTypes.has(event.type)) {
      const rule = procedureEventRules[event.type as ProcedureEventType];
      if (!active) return { rejected: `${event.type} applies to cases started since the procedure-checks change`, rule };
      if (stage === 'completed') return { rejected: `the assessment is completed: send new-information instead of ${event.type} (R-25)`, rule };
    }
    if (!active) return undefined;
    switch (event.type) {
      case 'family-declined-engagement':
        if (!event.reasonsForCompletingWithout) return { rejected: 'R-17: record the reasons for completing the assessment without the family (reasonsForCompletingWithout)', rule: 'R-17' };
        return undefined;
      case 'education-contact-closed':
        if (record.education?.status !== 'open') return { rejected: 'R-11: no education welfare contact is open (send not-in-education first)', rule: 'R-11' };
        return undefined;
      case 'agency-not-consulted':
        if (!record.agencies.some((agency) => agency.agencyRef === event.agencyRef)) return { rejected: `R-37: no agency ${event.agencyRef} is listed (send agency-involved first)`, rule: 'R-37' };
        return undefined;
      case 'household-child-identified':
        if (event.childRef === child.childRef) return { rejected: 'R-3: that is the child of this assessment', rule: 'R-3' };
        if (input.householdChildRefs.includes(event.childRef)) return { rejected: `R-3: ${event.childRef} was named in the referral and has an assessment of their own`, rule: 'R-3' };
        return undefined;
      case 'parent-involvement-limited': {
        const parent = record.parents.find((candidate) => candidate.parentRef === event.parentRef);
        if (parent?.relationship === 'father' && host.fatherExclusion() !== 'approved') {
          return { rejected: "R-9: excluding a father needs the manager's agreement: send father-exclusion-requested first", rule: 'R-9' };
        }
        return undefined;
      }
      case 'parents-told-of-concerns': {
        const visitDue = host.originalVisitDueAt();
        if (event.status === 'to-be-told' && event.at && !event.reason && visitDue !== undefined && Date.parse(event.at) > visitDue) {
          return { rejected: 'R-30: telling the parents after the visit deadline needs the reason for the delay', rule: 'R-30' };
        }
        return undefined;
      }
      default:
        return undefined;
    }
  };

  const onEvent = (event: DomainEvent): EventVerdict => {
    switch (event.type) {
      case 'parents-told-of-concerns':
        record.parentsTold = {
          eventId: event.eventId,
          status: event.status,
          ...(event.status === 'told' ? { at: event.at ?? event.occurredAt } : event.at ? { at: event.at } : {}),
          ...(event.reason ? { reason: event.reason } : {}),
        };
        settled('R-30', 'parents-told');
        engine.clearDeadline('parents-told');
        return { rule: 'R-30' };
      case 'communication-need-recorded': {
        const key = (entry: { person: string; parentRef?: string; need: string }) => `${entry.person}/${entry.parentRef ?? ''}/${entry.need}`;
        const next = {
          eventId: event.eventId,
          person: event.person,
          need: event.need,
          met: event.howMet !== undefined,
          ...(event.parentRef ? { parentRef: event.parentRef } : {}),
          ...(event.familyMemberUsed ? { familyMemberUsed: true } : {}),
          ...(event.assessmentRecommendations === 'not-followed' ? { recommendationsNotFollowed: true } : {}),
        };
        const index = record.communicationNeeds.findIndex((entry) => key(entry) === key(next));
        if (index >= 0) record.communicationNeeds[index] = next;
        else record.communicationNeeds.push(next);
        return { rule: 'R-35' };
      }
      case 'child-wishes-recorded':
        record.childWishes.push({
          eventId: event.eventId,
          method: event.method,
          explanationGiven: event.explanationGiven,
          sharedWithParents: event.sharedWithParents,
          ...(event.notSharedReason ? { notSharedReason: event.notSharedReason } : {}),
        });
        return { rule: 'R-36' };
      case 'agency-involved': {
        const existing = record.agencies.find((agency) => agency.agencyRef === event.agencyRef);
        if (existing) {
          if (event.overseasEnquiryAt) existing.overseasEnquiryAt = event.overseasEnquiryAt;
          return { rule: 'R-37' };
        }
        const agency: ProcedureRecord['agencies'][number] = {
          agencyRef: event.agencyRef,
          agency: event.agency,
          location: event.location,
          askedAt: event.occurredAt,
          status: 'awaiting',
          ...(event.overseasEnquiryAt ? { overseasEnquiryAt: event.overseasEnquiryAt } : {}),
        };
        record.agencies.push(agency);
        askAgency(agency, Date.parse(event.occurredAt));
        return { rule: 'R-37' };
      }
      case 'agency-not-consulted':
        replied(event.agencyRef, 'not-consulted');
        return { rule: 'R-37' };
      case 'professional-disagreement': {
        const dueBy = policy.disagreementResolutionWorkingDays !== undefined ? addWorkingDays(calendar, Date.parse(event.occurredAt), policy.disagreementResolutionWorkingDays) : undefined;
        const prompt = engine.raisePrompt('professional-disagreement', 'R-38', { about: event.eventId, ...(dueBy !== undefined ? { dueBy } : {}) });
        record.disagreements.push({ eventId: event.eventId, promptId: prompt.promptId, status: 'escalated' });
        outbound.notify('manager', 'professional-disagreement', 'R-38', { promptId: prompt.promptId });
        return { rule: 'R-38' };
      }
      case 'particular-circumstance-recorded': {
        const existing = record.circumstances.find((entry) => entry.circumstance === event.circumstance);
        if (existing) existing.howAddressed = existing.howAddressed || event.howAddressed !== undefined;
        else record.circumstances.push({ circumstance: event.circumstance, howAddressed: event.howAddressed !== undefined, eventId: event.eventId });
        if (event.circumstance === 'trafficking' && !record.trafficking) {
          // a referral to the National Referral Mechanism, or the manager's reason for not making one.
          const prompt = engine.raisePrompt('circumstance-response', 'R-40', { about: 'R-40' });
          prompt.allowedDecisions = ['nrm-referral-made', 'no-nrm-referral'];
          record.trafficking = { promptId: prompt.promptId, status: 'awaiting' };
          outbound.notify('manager', 'circumstance-response-needed', 'R-40', { promptId: prompt.promptId });
          return { rule: 'R-40' };
        }
        return { rule: 'R-39' };
      }
      case 'extra-familial-harm-recorded': {
        const prompt = engine.raisePrompt('circumstance-response', 'R-41', { about: `R-41:${event.eventId}` });
        prompt.allowedDecisions = ['multi-agency-risk-referral', 'multi-agency-programme', 'cin-planning-meeting'];
        record.extraFamilialHarm.push({ eventId: event.eventId, promptId: prompt.promptId });
        outbound.notify('manager', 'circumstance-response-needed', 'R-41', { promptId: prompt.promptId });
        if (event.allegedChildPerpetratorRef && event.allegedChildPerpetratorRef !== child.childRef) considerChild(event.allegedChildPerpetratorRef, 'alleged-child-perpetrator');
        return { rule: 'R-41' };
      }
      case 'parental-factor-recorded':
        for (const factor of event.factors) if (!record.parentalFactors.includes(factor)) record.parentalFactors.push(factor);
        return { rule: 'R-46' };
      case 'household-child-identified':
        considerChild(event.childRef, 'household-child-identified', event.dateOfBirth);
        return { rule: 'R-3' };
      case 'parent-listed': {
        const existing = record.parents.find((parent) => parent.parentRef === event.parentRef);
        if (existing) {
          existing.relationship = event.relationship;
          existing.resident = event.resident;
        } else record.parents.push({ parentRef: event.parentRef, relationship: event.relationship, resident: event.resident, seenWithViews: false });
        return { rule: 'R-9' };
      }
      case 'parent-involvement-limited': {
        const parent = record.parents.find((candidate) => candidate.parentRef === event.parentRef);
        if (parent) parent.limitedReason = event.reason;
        else record.parents.push({ parentRef: event.parentRef, relationship: 'other', seenWithViews: false, limitedReason: event.reason });
        return { rule: 'R-9' };
      }
      case 'child-visit-refused': {
        const prompt = engine.raisePrompt('child-visit-refused', 'R-8', { about: event.eventId });
        record.childVisitRefusals.push({ eventId: event.eventId, promptId: prompt.promptId, refused: event.refused });
        outbound.notify('manager', 'child-visit-refused', 'R-8', { promptId: prompt.promptId }, true);
        return { rule: 'R-8' };
      }
      case 'education-contact-closed':
        record.education = { status: 'closed', reasonFound: true, alternativeArrangement: event.alternativeArrangement };
        return { rule: 'R-11' };
      case 'significant-information-received':
        // further supervision when new and significant information arrives (policy, default on).
        if ((policy.supervisionOnSignificantInformation ?? true) && host.stage() === 'in-progress') {
          host.askForSupervisionReview(addWorkingDays(calendar, Date.parse(event.occurredAt), 1));
        }
        return { rule: 'R-15' };
      case 'chronology-updated':
        record.chronologyUpdatedAt = event.occurredAt;
        return { rule: 'R-21' };
      case 'development-stage-recorded':
        record.developmentRecordedAt = event.occurredAt;
        return { rule: 'R-21' };
      case 'early-help-assessment-used':
        record.earlyHelpAssessmentUsed = true;
        return { rule: 'R-21' };
      default:
        return undefined;
    }
  };

  const afterEvent = (event: DomainEvent) => {
    if (!active) return;
    switch (event.type) {
      case 'home-visited':
        // the visit event records each item of the first-visit information.
        if (event.informationGiven) {
          record.firstVisitInformation = {
            eventId: event.eventId,
            given: { ...event.informationGiven },
            ...(event.informationNotGivenReason ? { reasonNotGiven: event.informationNotGivenReason } : {}),
          };
        }
        return;
      case 'child-seen':
        // a trusted adult present instead of the child being seen alone.
        if (event.trustedAdultPresent) record.trustedAdultVisits.push(event.eventId);
        return;
      case 'parent-seen': {
        // every parent, resident or not, is listed; each is seen with views recorded.
        const parent = record.parents.find((candidate) => candidate.parentRef === event.parentRef);
        if (parent) {
          parent.seenWithViews = parent.seenWithViews || event.viewsRecorded;
          if (event.resident !== undefined) parent.resident = event.resident;
        } else {
          record.parents.push({ parentRef: event.parentRef, relationship: event.relationship, seenWithViews: event.viewsRecorded, ...(event.resident !== undefined ? { resident: event.resident } : {}) });
        }
        return;
      }
      case 'agency-information-received':
        if (event.agencyRef) replied(event.agencyRef, 'replied');
        return;
      case 'consent-recorded':
        // per parent and its scope; a later refusal does not erase an earlier authorisation.
        if (event.parentRef) {
          const scopes = event.scopes ?? ['other-agencies'];
          const existing = record.consentByParent.find((entry) => entry.parentRef === event.parentRef);
          if (existing) {
            existing.given = event.given;
            existing.scopes = scopes;
            existing.at = event.occurredAt;
          } else record.consentByParent.push({ parentRef: event.parentRef, given: event.given, scopes, at: event.occurredAt });
        }
        // Agencies flagged for want of consent are asked once it is in force.
        for (const agency of record.agencies.filter((candidate) => candidate.consentFlagged && candidate.status === 'awaiting')) {
          if (agencyConsentInForce(record, host.consent())) askAgency(agency, Date.parse(event.occurredAt));
        }
        return;
      case 'not-in-education':
        // the contact stays open until the reason and any alternative arrangement are recorded.
        record.education = { status: 'open' };
        return;
      default:
        return;
    }
  };

  const afterDecision = (prompt: Prompt, decision: AnyDecision) => {
    if (!active) return;
    const decidedAtMs = Date.parse(decision.decidedAt);
    switch (prompt.kind) {
      case 'consider-child': {
        const entry = record.householdChildren.find((candidate) => candidate.promptId === prompt.promptId);
        if (!entry) return;
        if (decision.decision === 'start-assessment') {
          entry.status = 'assessment-started';
          startSiblingAssessment(entry, decision.decidedAt);
        } else entry.status = 'not-assessed';
        return;
      }
      case 'child-visit-refused': {
        const entry = record.childVisitRefusals.find((candidate) => candidate.promptId === prompt.promptId);
        if (entry) entry.decision = decision.decision;
        if (decision.decision === 'strategy-discussion') host.startStrategyDiscussion('child-visit-refused', decidedAtMs);
        return;
      }
      case 'professional-disagreement': {
        const entry = record.disagreements.find((candidate) => candidate.promptId === prompt.promptId);
        if (entry) {
          entry.status = 'resolved';
          entry.meetingHeld = (decision as DecisionFor<'professional-disagreement'>).meetingHeld;
        }
        return;
      }
      case 'circumstance-response':
        if (record.trafficking?.promptId === prompt.promptId) {
          record.trafficking.status = decision.decision === 'nrm-referral-made' ? 'referred' : 'not-referred';
          if (decision.decision === 'nrm-referral-made') {
            record.trafficking.referredAt = (decision as Extract<DecisionFor<'circumstance-response'>, { decision: 'nrm-referral-made' }>).referredAt;
          }
        }
        for (const entry of record.extraFamilialHarm) if (entry.promptId === prompt.promptId) entry.response = decision.decision;
        return;
      case 'consent-override':
        if (decision.decision === 'approve') {
          host.consentOverridden(prompt.promptId, decision.decidedBy);
          for (const agency of record.agencies.filter((candidate) => candidate.consentFlagged && candidate.status === 'awaiting')) askAgency(agency, decidedAtMs);
        }
        return;
      case 'sign-off':
        // What the sign-off settles (each item answered, met or with its reason) no longer runs.
        if (decision.decision === 'sign-off') {
          engine.clearDeadline('parents-told');
          for (const agency of record.agencies) engine.clearDeadline(`agency-reply:${agency.agencyRef}`);
        }
        return;
      case 'supervision-review':
        // further supervision at the authority's regular interval (none without a setting).
        if (policy.supervisionIntervalWorkingDays !== undefined && host.stage() === 'in-progress') {
          host.askForSupervisionReview(addWorkingDays(calendar, decidedAtMs, policy.supervisionIntervalWorkingDays));
        }
        return;
      default:
        return;
    }
  };

  /** R-4 (section 10): the supervising manager named, else the case's manager, else the manager who allocates. */
  const supervisorOf = (allocation: DecisionFor<'allocation'>) => allocation.supervisingManagerId ?? input.managerId ?? allocation.decidedBy;

  const validateDecision = (prompt: Prompt, decision: AnyDecision): string | undefined => {
    if (!active) return undefined;
    if (prompt.kind === 'allocation' && decision.decision === 'allocate') {
      const allocation = decision as DecisionFor<'allocation'>;
      const supervisor = supervisorOf(allocation);
      const staff = policy.qualifiedStaff;
      if (staff && !staff.socialWorkers.includes(allocation.socialWorkerId)) return `R-4: ${allocation.socialWorkerId} is not among the authority's qualified social workers`;
      if (staff && !staff.managers.includes(supervisor)) return `R-4: ${supervisor} is not among the authority's qualified supervising managers`;
    }
    if (prompt.kind === 'sign-off' && decision.decision === 'sign-off' && homelessYoungPerson && needsSection20Outcome(child)) {
      const signOff = decision as Extract<DecisionFor<'sign-off'>, { decision: 'sign-off' }>;
      if (signOff.section20Outcome === undefined) {
        return 'R-28: a young person homeless or under imminent threat: record accommodation under section 20 or their refusal (section20Outcome)';
      }
    }
    return undefined;
  };

  const onAllocated = (allocation: DecisionFor<'allocation'>, visitDueAtMs: number) => {
    if (!active) return;
    settled('R-20', 'commence');
    // R-4 (section 10): the allocation goes to the social worker, through the case system, with the
    // visit timescale and the supervising manager (a record, not a notification: no entry on the case's record).
    record.allocation = { socialWorkerId: allocation.socialWorkerId, supervisingManagerId: supervisorOf(allocation) };
    outbound.caseRecord('allocation-to-social-worker', { ...record.allocation, visitDueAt: new Date(visitDueAtMs).toISOString() });
    // by the visit deadline, what the parents will be told and when.
    if (!record.parentsTold) {
      engine.setDeadline('parents-told', visitDueAtMs, () => {
        if (record.parentsTold || host.stage() === 'completed') return;
        awaiting('R-30', 'parents-told', 'past-due');
        outbound.notify('social-worker', 'parents-told-overdue', 'R-30');
      });
    }
  };

  return {
    active,
    homelessYoungPerson,
    handles: (type) => newTypes.has(type),
    refuseEvent,
    onEvent,
    afterEvent,
    afterDecision,
    validateDecision,
    onAllocated,
    checklistEvidence: () =>
      active
        ? {
            ...procedureChecklistEvidence(record, policy),
            'parents-seen-and-views-recorded': parentsEvidence(record, host.fatherExclusion()),
          }
        : undefined,
    state: () => (active ? record : undefined),
    // Listed with what is overdue (the API's overdue listing): the kinds only, never the rule or the step.
    searchAttributes: (): SearchAttributeUpdatePair[] =>
      active && host.stage() !== 'completed' ? [{ key: AwaitingStepsKey, value: [...new Set(record.awaiting.map((entry) => entry.kind))].sort() }] : [],
  };
}
