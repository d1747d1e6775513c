import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentEvent, eventually, newReferralId, referralBody, startApi, type ApiUnderTest } from './support';
import { testCodec } from '../support/payload-keys';

let api: ApiUnderTest;
let system: string;
let managerT1: string;
let managerT2: string;
let managerAnyTeam: string;
let operations: string;
const team = `T${Date.now().toString(36).toUpperCase()}1`;
const otherTeam = `T${Date.now().toString(36).toUpperCase()}2`;

type PromptView = { promptId: string; kind: string; workflowId: string; team?: string; allowedDecisions: string[]; dueBy?: string };

beforeAll(async () => {
  api = await startApi();
  system = await api.token('system', 'SYS-1');
  managerT1 = await api.token('manager', 'MGR-1', team);
  managerT2 = await api.token('manager', 'MGR-2', otherTeam);
  managerAnyTeam = await api.token('manager', 'MGR-9');
  operations = await api.token('operations', 'OPS-1');
});
afterAll(async () => api?.stop());

/** Until the referral's duty prompt is open, not only the referral readable: the prompt follows the calendar's activity. */
async function promptOpen(referralId: string, promptId: string): Promise<void> {
  await eventually(async () => {
    const response = await api.call('GET', `/v1/referrals/${referralId}`, { token: managerT1 });
    if (response.status !== 200) return undefined;
    const state = (await response.json()) as { prompts?: Array<{ promptId: string }> };
    return state.prompts?.some((prompt) => prompt.promptId === promptId) ? true : undefined;
  });
}

async function startReferral(referralTeam = team, extra: Record<string, unknown> = {}): Promise<string> {
  const referralId = newReferralId();
  const answer = await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team: referralTeam, managerId: 'MGR-1', ...extra }) });
  expect(answer.status).toBe(201);
  return referralId;
}

async function promptsOf(token: string, query: string): Promise<PromptView[]> {
  const answer = await api.call('GET', `/v1/prompts${query}`, { token });
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { prompts: PromptView[] }).prompts;
}

describe('prompts and decisions', () => {
  it('drives a referral to its duty decision through the API: list the prompt, decide, read the state and history', async () => {
    const referralId = await startReferral();
    const workflowId = `referral-${referralId}`;
    expect((await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-C1') })).status).toBe(202);

    // The team's manager sees the open duty-decision prompt (visibility is eventually consistent).
    const prompt = await eventually(async () => (await promptsOf(managerT1, '?kind=duty-decision')).find((candidate) => candidate.workflowId === workflowId));
    expect(prompt).toMatchObject({ promptId: `${workflowId}~duty-decision-1`, kind: 'duty-decision', team });
    expect(prompt.allowedDecisions).toContain('single-assessment');
    // Filtered by managerId too; a manager of another team does not see it.
    expect((await promptsOf(managerT1, '?managerId=MGR-1')).map((p) => p.promptId)).toContain(prompt.promptId);
    expect((await promptsOf(managerT2, '')).map((p) => p.promptId)).not.toContain(prompt.promptId);
    expect((await api.call('GET', `/v1/prompts?team=${team}`, { token: managerT2 })).status).toBe(403);

    // A manager of another team may not answer it: to them it does not exist.
    const foreign = await api.call('POST', `/v1/prompts/${prompt.promptId}/decision`, { token: managerT2, body: { decision: 'early-help', rationale: 'r' } });
    expect(foreign.status).toBe(404);

    const decided = await api.call('POST', `/v1/prompts/${prompt.promptId}/decision`, {
      token: managerT1,
      body: { decision: 'no-further-action', rationale: 'needs met by universal services' },
    });
    expect(decided.status).toBe(200);
    const result = (await decided.json()) as { accepted: boolean; promptId: string; state: { stage: string; dutyDecision: { decision: string }; prompts: Array<{ answeredBy?: string }> } };
    expect(result).toMatchObject({ accepted: true, promptId: prompt.promptId, state: { stage: 'closed', dutyDecision: { decision: 'no-further-action', decidedBy: 'MGR-1' } } });
    expect(result.state.prompts[0]?.answeredBy).toBe('MGR-1');

    const state = await eventually(async () => {
      const answer = await api.call('GET', `/v1/referrals/${referralId}`, { token: operations });
      return answer.status === 200 ? ((await answer.json()) as { dutyDecision?: { decision: string } }) : undefined;
    });
    expect(state.dutyDecision?.decision).toBe('no-further-action');

    // Answering again: the prompt is closed (409).
    const again = await api.call('POST', `/v1/prompts/${prompt.promptId}/decision`, { token: managerT1, body: { decision: 'early-help', rationale: 'second thoughts' } });
    expect(again.status).toBe(409);

    // The history: a readable timeline with who and what, and the raw decoded events.
    // (after the closing notifications, the workflow completes)
    const timeline = await eventually(async () => {
      const history = await api.call('GET', `/v1/assessments/${workflowId}/history`, { token: operations });
      expect(history.status).toBe(200);
      const body = (await history.json()) as { timeline: Array<{ what: string; who?: string; ref?: string }> };
      return body.timeline.some((entry) => entry.what === 'workflow execution completed') ? body.timeline : undefined;
    });
    expect(timeline[0]?.what).toBe('workflow referralWorkflow started');
    expect(timeline).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ what: 'event consent-recorded received', who: 'SW-1 (sent by SYS-1)', ref: 'EV-C1' }),
        expect.objectContaining({ what: `decision 'no-further-action' on ${prompt.promptId}`, who: 'MGR-1' }),
        expect.objectContaining({ what: 'workflow execution completed' }),
      ]),
    );
    const raw = await api.call('GET', `/v1/assessments/${workflowId}/history?format=raw`, { token: managerAnyTeam });
    const { events } = (await raw.json()) as { events: Array<{ type: string; attributes: Record<string, unknown> }> };
    const started = events.find((event) => event.type === 'WORKFLOW_EXECUTION_STARTED');
    expect((started?.attributes.input as Array<{ referralId: string }>)[0]?.referralId).toBe(referralId);
    expect(events.some((event) => event.type === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toBe(true);

    // The referral is closed, yet a retry of its start still answers 200 (the id is never reused).
    const retried = await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team, managerId: 'MGR-1' }) });
    expect(retried.status).toBe(200);

    // The workflow has closed: a further event is refused with 409, saying where it goes instead.
    const late = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-C2') });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: 'workflow-closed', message: expect.stringContaining('new referral') });
  });

  it('answers 422 to an answer not allowed for the prompt, 409 to an unknown prompt, 404 to an unknown workflow', async () => {
    const referralId = await startReferral();
    const promptId = `referral-${referralId}~duty-decision-1`;
    await promptOpen(referralId, promptId);

    const notAllowed = await api.call('POST', `/v1/prompts/${promptId}/decision`, { token: managerT1, body: { decision: 'sign-off', rationale: 'r' } });
    expect(notAllowed.status).toBe(422);
    const notAllowedBody = (await notAllowed.json()) as { error: string; allowedDecisions: string[] };
    expect(notAllowedBody.error).toBe('decision-not-allowed');
    expect(notAllowedBody.allowedDecisions).toContain('no-further-action');

    const invalidForKind = await api.call('POST', `/v1/prompts/${promptId}/decision`, { token: managerT1, body: { decision: 'early-help', rationale: 'r', outcome: 'x' } });
    expect(invalidForKind.status).toBe(422);
    const invalidBody = (await invalidForKind.json()) as { error: string; issues: Array<{ path: string; message: string }> };
    expect(invalidBody.error).toBe('invalid-decision');
    expect(invalidBody.issues.length).toBeGreaterThan(0);

    const unknownPrompt = await api.call('POST', `/v1/prompts/referral-${referralId}~allocation-1/decision`, { token: managerT1, body: { decision: 'allocate', rationale: 'r' } });
    expect(unknownPrompt.status).toBe(409);
    expect(await unknownPrompt.json()).toMatchObject({ error: 'unknown-prompt' });

    const unknownWorkflow = await api.call('POST', `/v1/prompts/referral-REF-NOPE-9~duty-decision-1/decision`, { token: managerAnyTeam, body: { decision: 'early-help', rationale: 'r' } });
    expect(unknownWorkflow.status).toBe(404);

    const missingFields = await api.call('POST', `/v1/prompts/${promptId}/decision`, { token: managerT1, body: { decidedAt: 'now' } });
    expect(missingFields.status).toBe(400);
    const missing = (await missingFields.json()) as { issues: Array<{ path: string }> };
    expect(missing.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['decision', 'rationale', 'decidedAt']));

    // Still open and answerable after all those refusals.
    const ok = await api.call('POST', `/v1/prompts/${promptId}/decision`, { token: managerT1, body: { decision: 'single-assessment', rationale: 'needs assessing', decidedAt: new Date().toISOString() } });
    expect(ok.status).toBe(200);
  });

  it('accepts one of several concurrent answers to a prompt; the others are told it is closed (409)', async () => {
    const referralId = await startReferral();
    const promptId = `referral-${referralId}~duty-decision-1`;
    await promptOpen(referralId, promptId);
    const answers = await Promise.all(
      ['early-help', 'no-further-action', 'single-assessment', 'information-and-advice', 'early-help'].map((decision) =>
        api.call('POST', `/v1/prompts/${promptId}/decision`, { token: managerT1, body: { decision, rationale: 'concurrent' } }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409, 409, 409, 409]);
    const state = (await (await api.call('GET', `/v1/referrals/${referralId}`, { token: managerT1 })).json()) as { record: Array<{ source: string; status: string }> };
    expect(state.record.filter((entry) => entry.source === 'decision' && entry.status === 'applied')).toHaveLength(1);
  });

  // The duty decision is due a working day after the referral was received: the referral
  // received earlier is due first, whichever was started first.
  it('lists open prompts in order, oldest due first', async () => {
    const sortTeam = `T${Date.now().toString(36).toUpperCase()}S`;
    // A week apart (relative to now, so they never age into another calendar): a week always
    // holds a working day, so their due times differ whatever day this runs on.
    const later = await startReferral(sortTeam, { receivedAt: new Date(Date.now() - 86_400_000).toISOString() });
    const sooner = await startReferral(sortTeam, { receivedAt: new Date(Date.now() - 8 * 86_400_000).toISOString() });
    const manager = await api.token('manager', 'MGR-5', sortTeam);
    const prompts = await eventually(async () => {
      const found = await promptsOf(manager, '?kind=duty-decision');
      return found.length === 2 ? found : undefined;
    });
    expect(prompts.map((prompt) => prompt.workflowId)).toEqual([`referral-${sooner}`, `referral-${later}`]);
  });
});

describe('history decoding', () => {
  it("decodes the history through the client's data converter (its payload codecs), not as plaintext", async () => {
    const decoded: number[] = [];
    // The worker encrypts; this client's codec decrypts with the same test keys and counts,
    // proving the history route runs payloads through the codecs of the client it is given.
    const encryption = testCodec();
    const countingCodec = {
      encode: (payloads: Payload[]) => encryption.encode(payloads),
      decode: async (payloads: Payload[]) => {
        decoded.push(payloads.length);
        return encryption.decode(payloads);
      },
    };
    const client = new Client({ connection: api.harness.client.connection, namespace: 'default', dataConverter: { payloadCodecs: [countingCodec] } });
    const withCodec = await startApi({ harness: api.harness, client });
    try {
      const referralId = await startReferral();
      const before = decoded.length;
      const answer = await withCodec.call('GET', `/v1/assessments/referral-${referralId}/history?format=raw`, { token: operations });
      expect(answer.status).toBe(200);
      expect(decoded.length).toBeGreaterThan(before);
      const { events } = (await answer.json()) as { events: Array<{ type: string; attributes: { input?: Array<{ referralId: string }> } }> };
      expect(events[0]?.attributes.input?.[0]?.referralId).toBe(referralId);
    } finally {
      await withCodec.stop();
    }
  });
});
