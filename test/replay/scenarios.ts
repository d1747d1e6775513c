/**
 * Complete runs of the workflows, on the time-skipping server, whose histories are kept as
 * replay fixtures (test/fixtures/histories/). Each scenario drives a case from start to
 * end and returns the histories of every workflow it ran.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { assessmentWorkflowId, childInNeedPlanWorkflowId, referralWorkflowId, section47EnquiryWorkflowId, strategyDiscussionWorkflowId } from '../../domain/ids';
import type { AssessmentState } from '../../workflows/assessment';
import type { ManagerDecision } from '../../domain/prompts';
import { decideUpdate, eventSignal, stateQuery, type DecisionRequestKey } from '../../workflows/messages';
import { referralWorkflow } from '../../workflows/referral';
import { referralWorkingCalendar } from '../../activities/calendar';
import { allMet, childInNeedPlan, DAY_MS, HOUR_MS, iso, type AssessmentHarness } from '../support/assessment-harness';
import { FIRST_VISIT_INFORMATION, procedureFieldwork } from '../support/procedure-fieldwork';

export interface ScenarioRun {
  /** The scenario's name: the fixture file is `<name>.<workflow kind>.json`. */
  name: string;
  histories: Array<{ workflowId: string; kind: string; history: History }>;
  /** What the scenario ended with, for its own assertions. */
  results: Record<string, unknown>;
}

interface Prompted {
  openPrompts: Array<{ kind: string; promptId: string }>;
}

async function openPrompt(harness: AssessmentHarness, handle: WorkflowHandle, kind: string): Promise<string> {
  return harness.eventually(async () => {
    const state = (await handle.query(stateQuery)) as Prompted;
    const prompt = state.openPrompts.find((candidate) => candidate.kind === kind);
    if (!prompt) throw new Error(`no open ${kind} prompt on ${handle.workflowId}`);
    return prompt.promptId;
  });
}

async function decide(harness: AssessmentHarness, handle: WorkflowHandle, kind: string, decision: string, extra: Record<string, unknown> = {}) {
  const promptId = await openPrompt(harness, handle, kind);
  await handle.executeUpdate(decideUpdate, {
    args: [{ promptId, decision, rationale: 'recorded by the manager', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()), ...extra } as never],
  });
}

let eventCount = 0;
async function send(harness: AssessmentHarness, handle: WorkflowHandle, event: Record<string, unknown>) {
  eventCount += 1;
  await handle.signal(eventSignal, { eventId: `EV-REPLAY-${eventCount}`, occurredAt: iso(await harness.now()), actor: 'SW-1', ...event } as never);
}

const unique = () => `${Date.now().toString(36).toUpperCase()}${(eventCount += 1)}`;

/** Started as the API starts it: with the working calendar passed in. */
async function startReferral(harness: AssessmentHarness, referralId: string, receivedAt: string, childProtectionConcern = false) {
  return harness.env.client.workflow.start(referralWorkflow, {
    workflowId: referralWorkflowId(referralId),
    taskQueue: harness.taskQueue,
    args: [
      {
        referralId,
        receivedAt,
        referrerType: 'health',
        childProtectionConcern,
        team: 'TEAM-1',
        managerId: 'MGR-1',
        children: [{ childRef: 'C-1', dateOfBirth: '2014-02-01' }],
        workingCalendar: referralWorkingCalendar({ receivedAt }, await harness.now()),
      },
    ],
  });
}

/** A referral closed at the duty decision. */
export async function referralClosedAtDutyDecision(harness: AssessmentHarness): Promise<ScenarioRun> {
  const referral = await startReferral(harness, `REF-R1-${unique()}`, iso(await harness.now()));
  await decide(harness, referral, 'duty-decision', 'early-help');
  const result = await referral.result();
  return { name: 'referral-closed-at-duty-decision', histories: [{ workflowId: referral.workflowId, kind: 'referral', history: await referral.fetchHistory() }], results: { referral: result } };
}

/**
 * A duty decision made under an Idempotency-Key (the `decide` update's second argument,
 * issue 16), then sent again: the repeat, the same key with another request and another
 * answer are refused by the validator, so the history holds the keyed decision alone. The
 * referral waits for the assessment the decision started; the scenario ends it there.
 */
export async function dutyDecisionRepeated(harness: AssessmentHarness): Promise<ScenarioRun> {
  const referralId = `REF-IK-${unique()}`;
  const referral = await startReferral(harness, referralId, iso((await harness.now()) - HOUR_MS));
  const promptId = await openPrompt(harness, referral, 'duty-decision');
  const decision = { promptId, decision: 'single-assessment', rationale: 'recorded by the manager', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()) };
  const request = { idempotencyKey: 'IK-REPLAY-1', requestHash: 'a'.repeat(64) };
  const accepted = await referral.executeUpdate(decideUpdate, { args: [decision, request] });
  const refusal = async (args: [ManagerDecision, DecisionRequestKey]) => {
    const error = await referral.executeUpdate(decideUpdate, { args }).catch((caught: unknown) => caught);
    return error instanceof WorkflowUpdateFailedError ? (error.cause as { type?: string; details?: unknown[] }) : undefined;
  };
  const repeat = await refusal([decision, request]);
  const reused = await refusal([{ ...decision, decision: 'early-help' }, { ...request, requestHash: 'b'.repeat(64) }]);
  const another = await refusal([{ ...decision, decision: 'early-help' }, { ...request, idempotencyKey: 'IK-REPLAY-2' }]);
  const assessment = harness.env.client.workflow.getHandle(assessmentWorkflowId(referralId, 'C-1'));
  await openPrompt(harness, assessment, 'allocation');
  await referral.terminate('the scenario ends once the repeats are answered');
  return {
    name: 'duty-decision-repeated',
    histories: [{ workflowId: referral.workflowId, kind: 'referral', history: await referral.fetchHistory() }],
    results: { accepted, repeat: { type: repeat?.type, details: repeat?.details?.[0] }, reused: reused?.type, another: another?.type },
  };
}

/**
 * A section 17 assessment from referral to sign-off, with a visit that runs late and is
 * rescheduled, the review window after completion, and the referral closing.
 */
export async function assessmentSignedOff(harness: AssessmentHarness): Promise<ScenarioRun> {
  const referralId = `REF-S17-${unique()}`;
  const referral = await startReferral(harness, referralId, iso((await harness.now()) - HOUR_MS));
  await decide(harness, referral, 'duty-decision', 'single-assessment');
  const assessment = harness.env.client.workflow.getHandle(assessmentWorkflowId(referralId, 'C-1'));
  await decide(harness, assessment, 'allocation', 'allocate', { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief' });
  const allocated = (await assessment.query(stateQuery)) as AssessmentState;
  // The visit deadline passes: the manager reschedules it.
  await harness.env.sleep(Date.parse(allocated.visitDueAt!) - (await harness.now()) + HOUR_MS);
  await decide(harness, assessment, 'visit-overdue', 'reschedule', { visitDueAt: iso((await harness.now()) + DAY_MS) });
  await send(harness, assessment, { type: 'child-seen', seenAlone: true, viewsRecorded: true });
  await send(harness, assessment, { type: 'home-visited', bedroomSeen: true, informationGiven: FIRST_VISIT_INFORMATION });
  await send(harness, assessment, { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true });
  await send(harness, assessment, { type: 'agency-information-received', agency: 'health' });
  await send(harness, assessment, { type: 'needs-identified', service: 'SVC-1' });
  await send(harness, assessment, { type: 'analysis-completed', sources: ['SRC-1', 'SRC-2'] });
  for (const event of procedureFieldwork) await send(harness, assessment, event);
  await send(harness, assessment, { type: 'assessment-submitted' });
  await decide(harness, assessment, 'sign-off', 'sign-off', {
    outcome: 'child-in-need-plan',
    determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false },
    checklist: allMet(),
    primaryNeedCode: 'N1',
    assessmentFactors: ['3B'],
    childInNeedPlan: childInNeedPlan(await harness.now()),
  });
  // the child in need plan the sign-off started: sent to its agencies, reviewed early and
  // closed (while the assessment is open: the test server stops skipping time when a child
  // closes after its parent).
  const plan = harness.env.client.workflow.getHandle(childInNeedPlanWorkflowId(referralId, 'C-1', { kind: 'assessment' }));
  await harness.eventually(() => plan.describe());
  await send(harness, plan, { type: 'cin-plan-sent', agencyRef: 'AG-1' });
  await send(harness, plan, { type: 'cin-plan-sent', agencyRef: 'AG-2' });
  await send(harness, plan, { type: 'cin-plan-review-requested' });
  await decide(harness, plan, 'cin-plan-review', 'close', { reasonForClosure: 'RC7' });
  const planResult = await plan.result();
  // The referral closes once the assessment's review window is over (time skips to it).
  const referralResult = await referral.result();
  const assessmentResult = await assessment.result();
  return {
    name: 'assessment-signed-off',
    histories: [
      { workflowId: referral.workflowId, kind: 'referral', history: await referral.fetchHistory() },
      { workflowId: assessment.workflowId, kind: 'assessment', history: await assessment.fetchHistory() },
      { workflowId: plan.workflowId, kind: 'child-in-need-plan', history: await plan.fetchHistory() },
    ],
    results: { referral: referralResult, assessment: assessmentResult, plan: planResult },
  };
}

/** A strategy discussion deciding on a section 47 enquiry that convenes a conference. */
export async function section47WithConference(harness: AssessmentHarness): Promise<ScenarioRun> {
  const referralId = `REF-S47-${unique()}`;
  const discussion = await harness.startStrategyDiscussion(referralId);
  await decide(harness, discussion, 'strategy-discussion-outcome', 'section-47-enquiry', { attendees: ['police', 'health', 'education'] });
  const enquiry = harness.env.client.workflow.getHandle(section47EnquiryWorkflowId(referralId, 'C-1', 1));
  await openPrompt(harness, enquiry, 'section-47-outcome');
  await send(harness, enquiry, { type: 'child-seen', seenAlone: true, viewsRecorded: true });
  await harness.eventually(async () => {
    if (!((await enquiry.query(stateQuery)) as { childSeenAt?: string }).childSeenAt) throw new Error('not seen yet');
  });
  await decide(harness, enquiry, 'section-47-outcome', 'initial-child-protection-conference');
  // The conference is late (more than 15 working days): the deadline escalates before it is held.
  await harness.env.sleep(30 * DAY_MS);
  const late = await harness.eventually(async () => {
    const current = (await enquiry.query(stateQuery)) as { overdue: { conference: boolean } };
    if (!current.overdue.conference) throw new Error('the conference deadline has not passed yet');
    return current;
  });
  await send(harness, enquiry, { type: 'child-protection-conference-held' });
  const result = await discussion.result();
  return {
    name: 'section-47-with-conference',
    histories: [
      { workflowId: discussion.workflowId, kind: 'strategy-discussion', history: await discussion.fetchHistory() },
      { workflowId: enquiry.workflowId, kind: 'section-47-enquiry', history: await enquiry.fetchHistory() },
    ],
    results: { strategyDiscussion: result, conferenceOverdue: late.overdue.conference },
  };
}

/**
 * A referral whose duty decision calls a strategy discussion at once: the allocation runs
 * late and is escalated, the child seen before the enquiry starts is credited to it
 * the enquiry concludes, and the assessment is signed off with a child in need plan
 * handed on to start, then runs out its review window.
 */
export async function strategyDiscussionFromDutyDecision(harness: AssessmentHarness): Promise<ScenarioRun> {
  const referralId = `REF-SD-${unique()}`;
  const referral = await startReferral(harness, referralId, iso((await harness.now()) - HOUR_MS), true);
  await decide(harness, referral, 'duty-decision', 'strategy-discussion');
  const assessment = harness.env.client.workflow.getHandle(assessmentWorkflowId(referralId, 'C-1'));
  await openPrompt(harness, assessment, 'allocation');
  await harness.env.sleep(4 * DAY_MS);
  await openPrompt(harness, assessment, 'escalation');
  await send(harness, assessment, { type: 'child-seen', seenAlone: true, viewsRecorded: true });
  const discussion = harness.env.client.workflow.getHandle(strategyDiscussionWorkflowId(referralId, 'C-1', 1));
  await harness.eventually(async () => {
    if (!((await discussion.query(stateQuery)) as { childSeenAt?: string }).childSeenAt) throw new Error('not credited yet');
  });
  await decide(harness, discussion, 'strategy-discussion-outcome', 'section-47-enquiry', { attendees: ['police', 'health'] });
  const enquiry = harness.env.client.workflow.getHandle(section47EnquiryWorkflowId(referralId, 'C-1', 1));
  await decide(harness, enquiry, 'section-47-outcome', 'child-in-need-plan', { childInNeedPlan: childInNeedPlan(await harness.now()) });
  const discussionResult = await discussion.result();
  await decide(harness, assessment, 'allocation', 'allocate', { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'complex' });
  await send(harness, assessment, { type: 'home-visited', bedroomSeen: true, informationGiven: FIRST_VISIT_INFORMATION });
  await send(harness, assessment, { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true });
  await send(harness, assessment, { type: 'agency-information-received', agency: 'police' });
  await send(harness, assessment, { type: 'analysis-completed', sources: ['SRC-1', 'SRC-2'] });
  for (const event of procedureFieldwork) await send(harness, assessment, event);
  await send(harness, assessment, { type: 'assessment-submitted' });
  await decide(harness, assessment, 'sign-off', 'sign-off', {
    outcome: 'child-in-need-plan',
    determinations: { childInNeed: true, significantHarmSuspected: true, accommodationNeeded: false },
    checklist: allMet(),
    primaryNeedCode: 'N1',
    assessmentFactors: ['16A'],
    childInNeedPlan: childInNeedPlan(await harness.now()),
  });
  const referralResult = await referral.result();
  const assessmentResult = await assessment.result();
  return {
    name: 'strategy-discussion-from-duty-decision',
    histories: [
      { workflowId: referral.workflowId, kind: 'referral', history: await referral.fetchHistory() },
      { workflowId: assessment.workflowId, kind: 'assessment', history: await assessment.fetchHistory() },
      { workflowId: discussion.workflowId, kind: 'strategy-discussion', history: await discussion.fetchHistory() },
      { workflowId: enquiry.workflowId, kind: 'section-47-enquiry', history: await enquiry.fetchHistory() },
    ],
    results: { referral: referralResult, assessment: assessmentResult, strategyDiscussion: discussionResult },
  };
}
