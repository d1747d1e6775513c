import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessmentWorkflowId, childInNeedPlanWorkflowId, section47EnquiryWorkflowId, strategyDiscussionWorkflowId } from '../../domain/ids';
import { checklistItems } from '../../domain/prompts';
import { eventually, newReferralId, startApi, type ApiUnderTest } from '../api/support';
import { bornYearsAgo } from '../support/assessment-harness';
import { childInNeedPlan } from '../support/child-in-need-plan-example';
import { fieldworkToSubmission } from '../support/procedure-fieldwork';

/**
 * through the HTTP API on the real dev server: a referral goes to a child in
 * need plan, whose workflow the API reads and writes like any case workflow: the plan is
 * sent to its agencies, reviewed twice, and closed with the census reason for closure.
 */
let api: ApiUnderTest;
let system: string;
let manager: string;

beforeAll(async () => {
  api = await startApi();
  system = await api.token('system', 'CMS-1');
  manager = await api.token('manager', 'MGR-7');
});
afterAll(async () => {
  await api?.stop();
});

interface Prompt {
  promptId: string;
  kind: string;
  workflowId?: string;
}

async function json<T>(response: Response, status: number): Promise<T> {
  const body = (await response.json()) as T;
  expect(response.status, JSON.stringify(body)).toBe(status);
  return body;
}

const now = () => new Date().toISOString();

/** The open prompt of this kind on a case workflow, once it is there. */
const promptOf = (workflowId: string, kind: string) =>
  eventually(async () => {
    const response = await api.call('GET', `/v1/assessments/${workflowId}`, { token: manager });
    if (response.status !== 200) return undefined;
    return ((await response.json()) as { openPrompts: Prompt[] }).openPrompts.find((prompt) => prompt.kind === kind);
  });

const decide = async (promptId: string, body: Record<string, unknown>) =>
  json<{ state: Record<string, unknown> }>(await api.call('POST', `/v1/prompts/${promptId}/decision`, { token: manager, body: { rationale: 'recorded by the manager', ...body } }), 200);

describe('a child in need plan through the API', () => {
  it('R-44 a referral goes to a child in need plan with two reviews, and the plan closes with its census reason', async () => {
    const referralId = newReferralId();
    const assessmentId = assessmentWorkflowId(referralId, 'C-1');
    const planId = childInNeedPlanWorkflowId(referralId, 'C-1', { kind: 'assessment' });
    let eventNumber = 0;
    const event = async (workflowId: string, body: Record<string, unknown>) =>
      json(await api.call('POST', `/v1/assessments/${workflowId}/events`, { token: system, body: { eventId: `EV-${referralId}-${(eventNumber += 1)}`, occurredAt: now(), actor: 'SW-4', ...body } }), 202);

    await json(
      await api.call('POST', '/v1/referrals', {
        token: system,
        body: { referralId, receivedAt: now(), referrerType: 'health', childProtectionConcern: false, team: 'TEAM-E2E', children: [{ childRef: 'C-1', dateOfBirth: bornYearsAgo(9) }] },
      }),
      201,
    );
    await decide((await promptOf(`referral-${referralId}`, 'duty-decision')).promptId, { decision: 'single-assessment' });
    await decide((await promptOf(assessmentId, 'allocation')).promptId, { decision: 'allocate', socialWorkerId: 'SW-4', track: 'S17', assessmentType: 'brief' });
    for (const body of fieldworkToSubmission) {
      await event(assessmentId, body);
    }
    const signOff = (await promptOf(assessmentId, 'sign-off')).promptId;
    const answer = {
      decision: 'sign-off',
      outcome: 'child-in-need-plan',
      determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false },
      checklist: Object.fromEntries(checklistItems.map((item) => [item, { met: true }])),
      primaryNeedCode: 'N1',
      assessmentFactors: ['3B'],
    };
    // refused with what is missing.
    const inconsistent = await api.call('POST', `/v1/prompts/${signOff}/decision`, { token: manager, body: { ...answer, rationale: 'r', determinations: { ...answer.determinations, childInNeed: false }, childInNeedPlan: childInNeedPlan(Date.now()) } });
    expect(inconsistent.status).toBe(422);
    expect(JSON.stringify(await inconsistent.json())).toMatch(/R-42/);
    const withoutPlan = await api.call('POST', `/v1/prompts/${signOff}/decision`, { token: manager, body: { ...answer, rationale: 'r' } });
    expect(withoutPlan.status).toBe(422);
    expect(JSON.stringify(await withoutPlan.json())).toMatch(/R-44.*childInNeedPlan/);
    await decide(signOff, { ...answer, childInNeedPlan: childInNeedPlan(Date.now()) });

    // The plan's own workflow, read and written through the API like any case workflow.
    const plan = await eventually(async () => {
      const response = await api.call('GET', `/v1/assessments/${planId}`, { token: manager });
      return response.status === 200 ? ((await response.json()) as { stage: string; agenciesNotSent: string[] }) : undefined;
    });
    expect(plan).toMatchObject({ stage: 'open', agenciesNotSent: ['AG-1', 'AG-2'] });
    await event(planId, { type: 'cin-plan-sent', agencyRef: 'AG-1' });
    await event(planId, { type: 'cin-plan-sent', agencyRef: 'AG-2' });

    await event(planId, { type: 'cin-plan-review-requested' });
    const first = await decide((await promptOf(planId, 'cin-plan-review')).promptId, { decision: 'continue', nextReviewAt: new Date(Date.now() + 30 * 86_400_000).toISOString() });
    expect(first.state).toMatchObject({ agenciesNotSent: [] });
    await event(planId, { type: 'cin-plan-review-requested' });
    const closed = await decide((await promptOf(planId, 'cin-plan-review')).promptId, { decision: 'close', reasonForClosure: 'RC7' });
    expect(closed.state).toMatchObject({ stage: 'closed', reasonForClosure: 'RC7', closedAt: expect.any(String) });
    expect((closed.state.reviews as Array<{ status: string }>).filter((review) => review.status === 'held')).toHaveLength(2);
  });

  it('R-34 emergency action recorded during an assessment starts a strategy discussion, and it a section 47 enquiry', async () => {
    const referralId = newReferralId();
    const assessmentId = assessmentWorkflowId(referralId, 'C-1');
    await json(
      await api.call('POST', '/v1/referrals', {
        token: system,
        body: { referralId, receivedAt: now(), referrerType: 'education', childProtectionConcern: false, team: 'TEAM-E2E', children: [{ childRef: 'C-1', dateOfBirth: bornYearsAgo(7) }] },
      }),
      201,
    );
    await decide((await promptOf(`referral-${referralId}`, 'duty-decision')).promptId, { decision: 'single-assessment' });
    await decide((await promptOf(assessmentId, 'allocation')).promptId, { decision: 'allocate', socialWorkerId: 'SW-4', track: 'S17', assessmentType: 'brief' });
    await json(
      await api.call('POST', `/v1/assessments/${assessmentId}/events`, {
        token: system,
        body: { eventId: `EV-${referralId}-1`, occurredAt: now(), actor: 'SW-4', type: 'emergency-action-taken', kind: 'police-protection', decidedBy: 'MGR-7' },
      }),
      202,
    );
    const discussionId = strategyDiscussionWorkflowId(referralId, 'C-1', 1);
    const outcome = await promptOf(discussionId, 'strategy-discussion-outcome');
    await decide(outcome.promptId, { decision: 'section-47-enquiry', attendees: ['police', 'health', 'referrer'] });
    const enquiry = await promptOf(section47EnquiryWorkflowId(referralId, 'C-1', 1), 'section-47-outcome');
    expect(enquiry.kind).toBe('section-47-outcome');
    const assessment = await json<{ stage: string; followOn: { emergencyActions: Array<{ strategyDiscussion: string }> } }>(await api.call('GET', `/v1/assessments/${assessmentId}`, { token: manager }), 200);
    expect(assessment.stage).toBe('in-progress');
    expect(assessment.followOn.emergencyActions).toEqual([expect.objectContaining({ strategyDiscussion: 'started' })]);
  });

  it('R-25 after closure, new information about the child arrives as a new contact whose duty decision shows the child\'s earlier assessments and outcomes', async () => {
    const childRef = `CH-${newReferralId()}`;
    const refer = async (referralId: string, team: string) =>
      json(
        await api.call('POST', '/v1/referrals', {
          token: system,
          body: { referralId, receivedAt: now(), referrerType: 'education', childProtectionConcern: false, team, children: [{ childRef, dateOfBirth: bornYearsAgo(10) }] },
        }),
        201,
      );

    // The first episode, in another team: assessed and signed off with early help.
    const first = newReferralId();
    const firstAssessment = assessmentWorkflowId(first, childRef);
    await refer(first, 'TEAM-E2E-WEST');
    await decide((await promptOf(`referral-${first}`, 'duty-decision')).promptId, { decision: 'single-assessment' });
    await decide((await promptOf(firstAssessment, 'allocation')).promptId, { decision: 'allocate', socialWorkerId: 'SW-4', track: 'S17', assessmentType: 'brief' });
    let eventNumber = 0;
    for (const body of fieldworkToSubmission) {
      await json(
        await api.call('POST', `/v1/assessments/${firstAssessment}/events`, { token: system, body: { eventId: `EV-${first}-${(eventNumber += 1)}`, occurredAt: now(), actor: 'SW-4', ...body } }),
        202,
      );
    }
    await decide((await promptOf(firstAssessment, 'sign-off')).promptId, {
      decision: 'sign-off',
      outcome: 'early-help',
      determinations: { childInNeed: false, significantHarmSuspected: false, accommodationNeeded: false },
      checklist: Object.fromEntries(checklistItems.map((item) => [item, { met: true }])),
      primaryNeedCode: 'N9',
      assessmentFactors: ['21'],
    });

    // The new contact: its duty decision is shown the first episode, with its outcome.
    const second = newReferralId();
    await refer(second, 'TEAM-E2E');
    const earlier = await eventually(async () => {
      const response = await api.call('GET', `/v1/referrals/${second}?include=earlierInvolvement`, { token: manager });
      const body = (await response.json()) as { earlierInvolvement?: Array<{ childRef: string; assessments: Array<{ workflowId: string; outcome?: string; referralId?: string }> }> };
      const shown = body.earlierInvolvement?.find((child) => child.childRef === childRef)?.assessments ?? [];
      return shown.some((assessment) => assessment.workflowId === firstAssessment && assessment.outcome === 'early-help') ? shown : undefined;
    });
    expect(earlier).toEqual([expect.objectContaining({ workflowId: firstAssessment, referralId: first, outcome: 'early-help' })]);

    // Least privilege: a manager of the new contact's team alone is not shown the other team's case; a social worker no earlier involvement at all.
    const teamManager = await api.token('manager', 'MGR-9', 'TEAM-E2E');
    const asTeamManager = (await (await api.call('GET', `/v1/referrals/${second}?include=earlierInvolvement`, { token: teamManager })).json()) as { earlierInvolvement?: Array<{ assessments: unknown[] }> };
    expect(asTeamManager.earlierInvolvement).toEqual([expect.objectContaining({ childRef, assessments: [] })]);
    const socialWorker = await api.token('social_worker', 'SW-4');
    const asWorker = (await (await api.call('GET', `/v1/referrals/${second}?include=earlierInvolvement`, { token: socialWorker })).json()) as { earlierInvolvement?: unknown };
    expect(asWorker.earlierInvolvement).toBeUndefined();
  });
});
