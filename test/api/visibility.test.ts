import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchAttributePair } from '@temporalio/common';
import { childInNeedPlanWorkflowId, referralWorkflowId } from '../../domain/ids';
import { childInNeedPlanWorkflow } from '../../workflows/child-in-need-plan';
import { recordEventUpdate } from '../../workflows/messages';
import { childInNeedPlanInput } from '../support/assessment-harness';
import { referralInputSchema } from '../../domain/referral';
import { referralWorkflow } from '../../workflows/referral';
import {
  CompletedAtKey,
  CompletedWithinTimescaleKey,
  CompletionDueAtKey,
  LocalAuthorityKey,
  OverdueKey,
  SeenWithinTimescaleKey,
  TeamKey,
  WorkingDaysToCompleteKey,
} from '../../workflows/search-attributes';
import { eventually, newReferralId, referralBody, startApi, type ApiUnderTest } from './support';

// Visibility (search attributes, list queries) exists on the dev server only, so these run there.
let api: ApiUnderTest;
let manager: string;
let operations: string;
let system: string;

beforeAll(async () => {
  api = await startApi();
  manager = await api.token('manager', 'MGR-3');
  operations = await api.token('operations', 'OPS-1');
  system = await api.token('system', 'SYS-1');
});
afterAll(async () => api?.stop());

type Row = { workflowId: string; status: string; Team?: string; OpenPromptKinds?: string[] };
async function list(query: string, token = operations): Promise<{ assessments: Row[]; nextPageToken?: string }> {
  const answer = await api.call('GET', `/v1/assessments?${query}`, { token });
  expect(answer.status).toBe(200);
  return (await answer.json()) as { assessments: Row[]; nextPageToken?: string };
}

describe('GET /v1/assessments', () => {
  it('lists through visibility by status and team, a page at a time', async () => {
    const team = `TV${Date.now().toString(36).toUpperCase()}1`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const referralId = newReferralId();
      ids.push(referralWorkflowId(referralId));
      expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team }) })).status).toBe(201);
    }
    const awaiting = await eventually(async () => {
      const page = await list(`type=referral&status=awaiting-decision&team=${team}&pageSize=50`);
      return page.assessments.length === 3 ? page : undefined;
    });
    expect(awaiting.assessments.map((row) => row.workflowId).sort()).toEqual([...ids].sort());
    expect(awaiting.assessments[0]).toMatchObject({ status: 'RUNNING', Team: team, OpenPromptKinds: ['duty-decision'] });

    const first = await list(`type=referral&status=open&team=${team}&pageSize=2`, manager);
    expect(first.assessments).toHaveLength(2);
    expect(first.nextPageToken).toBeTruthy();
    const second = await list(`type=referral&status=open&team=${team}&pageSize=2&nextPageToken=${first.nextPageToken}`, manager);
    expect(second.assessments).toHaveLength(1);
    expect(second.nextPageToken).toBeUndefined();
    expect(new Set([...first.assessments, ...second.assessments].map((row) => row.workflowId)).size).toBe(3);

    // Answering the duty decision takes one out of 'awaiting-decision'.
    const decider = await api.token('manager', 'MGR-3', team);
    const decided = await api.call('POST', `/v1/prompts/${ids[0]}~duty-decision-1/decision`, { token: decider, body: { decision: 'early-help', rationale: 'early help offer' } });
    expect(decided.status).toBe(200);
    await eventually(async () => ((await list(`type=referral&status=awaiting-decision&team=${team}`)).assessments.length === 2 ? true : undefined));
    // Assessments proper (the default type) are not referrals.
    expect((await list(`status=open&team=${team}`)).assessments).toHaveLength(0);
  });

  it('shows a child in need plan that has continued as new once, and its timeline across its runs (issue 13)', async () => {
    const team = `TC${Date.now().toString(36).toUpperCase()}1`;
    const referralId = newReferralId();
    const now = Date.now();
    const input = childInNeedPlanInput(referralId, now, { team, managerId: 'MGR-3', decidedBy: 'MGR-3', continueAsNewAtHistoryEvents: 30 });
    const handle = await api.harness.client.workflow.start(childInNeedPlanWorkflow, {
      workflowId: childInNeedPlanWorkflowId(referralId, 'C-1', { kind: 'assessment' }),
      taskQueue: api.harness.taskQueue,
      args: [input],
    });
    const firstRunId = (await handle.describe()).runId;
    const eventIds = Array.from({ length: 16 }, (_, index) => `EV-CAN-${index + 1}`);
    for (const [index, eventId] of eventIds.entries()) {
      await handle.executeUpdate(recordEventUpdate, { args: [{ eventId, type: 'cin-plan-sent', agencyRef: index % 2 === 0 ? 'AG-1' : 'AG-2', occurredAt: new Date().toISOString(), actor: 'SW-1' }] });
    }
    await eventually(async () => ((await handle.describe()).runId !== firstRunId ? true : undefined));
    // Each run before the current one keeps a closed row in visibility: the listing shows the plan once.
    const rows = await eventually(async () => {
      const page = await list(`type=child-in-need-plan&team=${team}`);
      return page.assessments.length > 0 ? page.assessments : undefined;
    });
    expect(rows.map((row) => [row.workflowId, row.status])).toEqual([[handle.workflowId, 'RUNNING']]);
    let runs = 0;
    for await (const _ of api.harness.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs += 1;
    expect(runs).toBeGreaterThan(1);

    // The timeline reads back through the runs: every event received, and the hand-over.
    const answer = await api.call('GET', `/v1/assessments/${handle.workflowId}/history`, { token: operations });
    expect(answer.status).toBe(200);
    const { timeline } = (await answer.json()) as { timeline: Array<{ what: string; ref?: string }> };
    expect(timeline.filter((entry) => entry.what.startsWith('event cin-plan-sent')).map((entry) => entry.ref)).toEqual(eventIds);
    expect(timeline.some((entry) => entry.what.startsWith('run handed over'))).toBe(true);
    expect(timeline.some((entry) => entry.what.endsWith('continued in a new run'))).toBe(true);
    await handle.terminate('test over');
  });

  it('refuses unknown filters and bad values with 400 naming each', async () => {
    const answer = await api.call('GET', '/v1/assessments?status=lost&pageSize=0&colour=red', { token: operations });
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { issues: Array<{ path: string }> };
    expect(body.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['status', 'pageSize', '(body)']));
  });
});

describe('GET /v1/reports/timeliness', () => {
  it('aggregates completed and overdue work per month from search attributes set by real workflows', async () => {
    const localAuthority = `LA${Date.now().toString(36).toUpperCase()}9`;
    const team = 'TEAM-R1';
    // Referral workflows started with the attributes an assessment upserts as it completes:
    // the report reads nothing else. On a task queue no worker polls, so that no workflow
    // code writes its own attributes over them (a referral sets Overdue from its duty
    // decision as soon as it runs, which raced the listing below).
    const start = async (attributes: SearchAttributePair[]) => {
      const referralId = newReferralId();
      await api.harness.client.workflow.start(referralWorkflow, {
        workflowId: referralWorkflowId(referralId),
        taskQueue: `${api.harness.taskQueue}-report-fixtures`,
        args: [referralInputSchema.parse(referralBody(referralId, { localAuthority, team }))],
        typedSearchAttributes: [{ key: LocalAuthorityKey, value: localAuthority }, { key: TeamKey, value: team }, ...attributes],
      });
    };
    const completed = (at: string, days: number, within: boolean, seen: boolean): SearchAttributePair[] => [
      { key: CompletedAtKey, value: new Date(at) },
      { key: WorkingDaysToCompleteKey, value: days },
      { key: CompletedWithinTimescaleKey, value: within },
      { key: SeenWithinTimescaleKey, value: seen },
    ];
    await start(completed('2026-10-05T10:00:00Z', 10, true, true));
    await start(completed('2026-10-15T10:00:00Z', 30, true, false));
    await start(completed('2026-10-25T10:00:00Z', 50, false, true));
    await start(completed('2026-11-03T10:00:00Z', 20, true, true));
    await start(completed('2026-08-03T10:00:00Z', 20, true, true)); // outside the period asked for
    await start([{ key: CompletionDueAtKey, value: new Date('2026-11-01T17:00:00Z') }]); // open, past due
    // Not yet due: a date relative to now (a fixed one would fall due one day), and after the
    // period asked for, so that only the total counts the one flagged overdue.
    const notYetDue = new Date(Date.now() + 60 * 86_400_000);
    await start([{ key: CompletionDueAtKey, value: notYetDue }, { key: OverdueKey, value: true }]); // flagged overdue
    await start([{ key: CompletionDueAtKey, value: notYetDue }]); // open, not yet due

    type Report = { periods: Array<Record<string, unknown>>; openPastDueTotal: number };
    const report = await eventually(async () => {
      const answer = await api.call('GET', `/v1/reports/timeliness?from=2026-10&to=2026-11&localAuthority=${localAuthority}&type=referral`, { token: manager });
      expect(answer.status).toBe(200);
      const body = (await answer.json()) as Report;
      const total = body.periods.reduce((sum, period) => sum + Number(period.completed), 0);
      return total === 4 && body.openPastDueTotal === 2 ? body : undefined;
    });
    expect(report.periods).toEqual([
      {
        period: '2026-10',
        completed: 3,
        within45WorkingDays: { count: 2, of: 3, share: 2 / 3 },
        withinOwnTimescale: { count: 2, of: 3, share: 2 / 3 },
        seenWithinTimescale: { count: 2, of: 3, share: 2 / 3 },
        medianWorkingDaysToComplete: 30,
        openPastDue: 0,
      },
      {
        period: '2026-11',
        completed: 1,
        within45WorkingDays: { count: 1, of: 1, share: 1 },
        withinOwnTimescale: { count: 1, of: 1, share: 1 },
        seenWithinTimescale: { count: 1, of: 1, share: 1 },
        medianWorkingDaysToComplete: 20,
        openPastDue: 1,
      },
    ]);

    // The same search attributes drive the 'completed' and 'overdue' listings.
    const completedRows = await list(`type=referral&status=completed&team=${team}&pageSize=200`);
    expect(completedRows.assessments.length).toBeGreaterThanOrEqual(5);
    const overdue = await list(`type=referral&status=overdue&team=${team}&pageSize=200`);
    expect(overdue.assessments.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a bad period with 400, and from after to with 422', async () => {
    const answer = await api.call('GET', '/v1/reports/timeliness?from=2026-13&to=last', { token: operations });
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { issues: Array<{ path: string }> };
    expect(body.issues.map((issue) => issue.path).sort()).toEqual(['from', 'to']);
    expect((await api.call('GET', '/v1/reports/timeliness?from=2026-11&to=2026-10', { token: operations })).status).toBe(422);
  });
});
