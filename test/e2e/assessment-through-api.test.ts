import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessmentWorkflowId } from '../../domain/ids';
import { checklistItems } from '../../domain/prompts';
import { eventually, newReferralId, startApi, type ApiUnderTest } from '../api/support';
import { bornYearsAgo } from '../support/assessment-harness';
import { fieldworkToSubmission } from '../support/procedure-fieldwork';
import { childInNeedPlan } from '../support/child-in-need-plan-example';

/**
 * A whole assessment driven only through the HTTP API, on the real dev server: referral,
 * duty decision, allocation, fieldwork events, submission, manager sign-off, and then the
 * history endpoint showing every step.
 */
let api: ApiUnderTest;
let system: string;
let manager: string;
let operations: string;

beforeAll(async () => {
  api = await startApi();
  system = await api.token('system', 'CMS-1');
  manager = await api.token('manager', 'MGR-7');
  operations = await api.token('operations', 'OPS-1');
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

describe('a whole assessment through the API', () => {
  it('goes from referral to a signed-off outcome, and its history shows every step', async () => {
    const referralId = newReferralId();
    const assessmentId = assessmentWorkflowId(referralId, 'C-1');
    const now = () => new Date().toISOString();

    await json(
      await api.call('POST', '/v1/referrals', {
        token: system,
        body: {
          referralId,
          receivedAt: now(),
          referrerType: 'health',
          childProtectionConcern: false,
          // A team of its own: another file's cases left open in a shared team (R-25's new contact
          // waits on its duty decision) are listed too, and querying them, their worker gone, waits.
          team: 'TEAM-E2E-WHOLE',
          children: [{ childRef: 'C-1', dateOfBirth: bornYearsAgo(12.5), schoolAge: true }],
        },
      }),
      201,
    );

    // The duty manager finds the prompt in the open-prompts list and decides.
    const duty = await eventually(async () => {
      const { prompts } = await json<{ prompts: Prompt[] }>(await api.call('GET', '/v1/prompts?kind=duty-decision&team=TEAM-E2E-WHOLE', { token: manager }), 200);
      return prompts.find((prompt) => prompt.workflowId === `referral-${referralId}`);
    });
    await json(await api.call('POST', `/v1/prompts/${duty.promptId}/decision`, { token: manager, body: { decision: 'single-assessment', rationale: 'needs a single assessment' } }), 200);

    // The child's assessment starts and asks for allocation.
    const allocation = await eventually(async () => {
      const response = await api.call('GET', `/v1/assessments/${assessmentId}`, { token: manager });
      if (response.status !== 200) return undefined;
      const state = (await response.json()) as { openPrompts: Prompt[] };
      return state.openPrompts.find((prompt) => prompt.kind === 'allocation');
    });
    // Submitted before anyone is allocated: refused, saying why, and the eventId stays free.
    const early = await api.call('POST', `/v1/assessments/${assessmentId}/events`, {
      token: system,
      body: { eventId: `EV-${referralId}-6`, occurredAt: now(), actor: 'SW-4', type: 'assessment-submitted' },
    });
    expect(early.status).toBe(422);
    expect(await early.json()).toMatchObject({ error: 'event-refused', message: expect.stringMatching(/only an assessment in progress can be submitted/) });
    await json(
      await api.call('POST', `/v1/prompts/${allocation.promptId}/decision`, {
        token: manager,
        body: { decision: 'allocate', rationale: 'allocated to the duty team', socialWorkerId: 'SW-4', track: 'S17', assessmentType: 'brief' },
      }),
      200,
    );

    // Fieldwork, as the case management system reports it.
    const events = fieldworkToSubmission;
    for (const [index, event] of events.entries()) {
      const answer = await json<{ accepted: boolean; duplicate: boolean }>(
        await api.call('POST', `/v1/assessments/${assessmentId}/events`, { token: system, body: { eventId: `EV-${referralId}-${index + 1}`, occurredAt: now(), actor: 'SW-4', ...event } }),
        202,
      );
      expect(answer).toEqual({ accepted: true, duplicate: false });
    }

    const signOff = await eventually(async () => {
      const state = await json<{ openPrompts: Prompt[] }>(await api.call('GET', `/v1/assessments/${assessmentId}`, { token: manager }), 200);
      return state.openPrompts.find((prompt) => prompt.kind === 'sign-off');
    });
    const signed = await json<{ state: { stage: string; outcome: string; determinations: unknown } }>(
      await api.call('POST', `/v1/prompts/${signOff.promptId}/decision`, {
        token: manager,
        body: {
          decision: 'sign-off',
          rationale: 'evidence supports a child in need plan',
          outcome: 'child-in-need-plan',
          determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false },
          checklist: Object.fromEntries(checklistItems.map((item) => [item, { met: true }])),
          primaryNeedCode: 'N1',
          assessmentFactors: ['3B'],
          childInNeedPlan: childInNeedPlan(Date.now()),
        },
      }),
      200,
    );
    expect(signed.state).toMatchObject({ stage: 'completed', outcome: 'child-in-need-plan', determinations: { childInNeed: true } });

    const { timeline } = await json<{ timeline: Array<{ what: string; who?: string; rule?: string }> }>(
      await api.call('GET', `/v1/assessments/${assessmentId}/history`, { token: operations }),
      200,
    );
    const steps = timeline.map((entry) => entry.what);
    expect(steps[0]).toBe('workflow assessmentWorkflow started');
    for (const event of events) expect(steps).toContain(`event ${event.type} received`);
    expect(steps.some((step) => step.startsWith("decision 'allocate'"))).toBe(true);
    expect(steps.some((step) => step.startsWith("decision 'sign-off'"))).toBe(true);
    expect(timeline.find((entry) => entry.what.startsWith("decision 'sign-off'"))).toMatchObject({ who: 'MGR-7', rule: 'R-21' });
    expect(timeline.find((entry) => entry.what === 'event child-seen received')).toMatchObject({ who: 'SW-4 (sent by CMS-1)', rule: 'R-8' });
  });
});
