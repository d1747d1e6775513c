import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { referralWorkflowId } from '../../domain/ids';
import { devServerHarness, type DevServerHarness } from '../support/temporal';
import { eventually, newReferralId, referralBody, startApi, type ApiUnderTest } from './support';

/**
 * `GET /v1/prompts` pages through visibility: every workflow with open prompts is listed
 * (its OpenPromptsDue attribute orders the prompts), and the page's prompts come from the
 * listed rows' memos (the open-prompts-memo patch): no workflow is queried. A spy on the
 * client counts the queries.
 */
let harness: DevServerHarness;
let api: ApiUnderTest;
const queried: string[] = [];

/** The client with every workflow query recorded (by workflow id). */
function spyOnQueries(client: Client): Client {
  const workflow = new Proxy(client.workflow, {
    get(target, property) {
      if (property !== 'getHandle') return Reflect.get(target, property) as unknown;
      return (workflowId: string, ...rest: unknown[]) => {
        const handle = (target.getHandle as (...args: unknown[]) => object)(workflowId, ...rest);
        return new Proxy(handle, {
          get(handleTarget, handleProperty) {
            const value = Reflect.get(handleTarget, handleProperty) as unknown;
            if (handleProperty !== 'query' || typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              queried.push(workflowId);
              return (value as (...a: unknown[]) => unknown).apply(handleTarget, args);
            };
          },
        });
      };
    },
  });
  return new Proxy(client, { get: (target, property) => (property === 'workflow' ? workflow : (Reflect.get(target, property) as unknown)) });
}

beforeAll(async () => {
  harness = await devServerHarness();
  api = await startApi({ harness, client: spyOnQueries(harness.client) });
});
afterAll(async () => {
  await api?.stop();
  await harness?.stop();
});

interface PromptPage {
  prompts: Array<{ promptId: string; workflowId: string; kind: string; dueBy?: string; answerSchema: string }>;
  complete: boolean;
  nextPageToken?: string;
  totalOpen: number;
  pageSize: number;
}

describe('GET /v1/prompts, a page at a time', () => {
  it('orders every prompt in scope by due time, pages them with a token, and reads the page’s prompts from visibility without a query', async () => {
    const team = `TL${Date.now().toString(36).toUpperCase()}1`;
    const system = await api.token('system', 'SYS-1');
    const manager = await api.token('manager', 'MGR-2', team);
    // Received 3, 2 and 1 hours ago: their duty decisions fall due in that order (or at once).
    const ids: string[] = [];
    for (const hoursAgo of [3, 2, 1]) {
      const referralId = newReferralId();
      ids.push(referralWorkflowId(referralId));
      const receivedAt = new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
      expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team, receivedAt }) })).status).toBe(201);
    }
    const list = async (query: string): Promise<PromptPage> => {
      const answer = await api.call('GET', `/v1/prompts?team=${team}&${query}`, { token: manager });
      expect(answer.status).toBe(200);
      return (await answer.json()) as PromptPage;
    };
    await eventually(async () => ((await list('pageSize=10')).totalOpen === 3 ? true : undefined), 30_000);

    const pages: PromptPage[] = [];
    let token: string | undefined;
    do {
      queried.length = 0;
      const page = await list(`pageSize=1${token ? `&nextPageToken=${token}` : ''}`);
      // One prompt on the page, read from its row's memo: no workflow queried (a query to a case outside the worker's cache replays it).
      expect(page.prompts).toHaveLength(1);
      expect(queried).toEqual([]);
      expect(page).toMatchObject({ totalOpen: 3, pageSize: 1, complete: page.nextPageToken === undefined });
      pages.push(page);
      token = page.nextPageToken;
    } while (token && pages.length < 5);
    expect(pages).toHaveLength(3);
    // Due times may tie (over a weekend, 1 working day from 3 and 1 hours ago can be the same instant): the order is by due time, every prompt once.
    const order = pages.map((page) => page.prompts[0]?.workflowId as string);
    expect([...order].sort()).toEqual([...ids].sort());
    expect(pages[0]?.prompts[0]).toMatchObject({
      promptId: `${order[0]}~duty-decision-1`,
      kind: 'duty-decision',
      answerSchema: '/v1/openapi.json#/components/schemas/Decision.duty-decision',
    });
    const dues = pages.map((page) => Date.parse(page.prompts[0]?.dueBy ?? ''));
    expect([...dues].sort((a, b) => a - b)).toEqual(dues);

    // A prompt answered after the listing is not shown again; the next page does not shift.
    const first = await list('pageSize=2');
    expect(first.prompts.map((prompt) => prompt.workflowId)).toEqual(order.slice(0, 2));
    const decided = await api.call('POST', `/v1/prompts/${order[0]}~duty-decision-1/decision`, { token: manager, body: { decision: 'early-help', rationale: 'early help offer' } });
    expect(decided.status).toBe(200);
    // Visibility (which the memo is part of) follows the decision within moments.
    const rest = await eventually(async () => {
      const page = await list(`pageSize=2&nextPageToken=${first.nextPageToken}`);
      return page.prompts.length === 1 ? page : undefined;
    }, 15_000);
    expect(rest.prompts.map((prompt) => prompt.workflowId)).toEqual([order[2]]);
    expect(rest.prompts[0]).toMatchObject({ promptId: `${order[2]}~duty-decision-1`, status: 'open', rule: expect.stringMatching(/^R-\d+$/), allowedDecisions: expect.arrayContaining(['early-help']) });
    const afterDecision = await eventually(async () => {
      const page = await list('pageSize=10');
      return page.totalOpen === 2 ? page : undefined;
    }, 15_000);
    expect(afterDecision.prompts.map((prompt) => prompt.workflowId)).toEqual(order.slice(1));

    // Filtered by kind, the listing keeps to it; a token this API did not issue is refused naming it.
    expect((await list('kind=allocation')).prompts).toEqual([]);
    const forged = await api.call('GET', `/v1/prompts?team=${team}&nextPageToken=bm90LWEtdG9rZW4`, { token: manager });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ issues: [{ path: 'nextPageToken' }] });
  });
});
