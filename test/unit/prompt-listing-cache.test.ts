import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { PromptListingCache } from '../../api/prompt-listing-cache';
import type { VisibleWorkflow } from '../../api/visibility';

/** A lister that answers with the rows it is given now, counting its calls; each call can be held until released. */
function fakeVisibility() {
  let rows: VisibleWorkflow[] = [];
  let calls = 0;
  let gate: Promise<void> | undefined;
  return {
    set(next: VisibleWorkflow[]) {
      rows = next;
    },
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    get calls() {
      return calls;
    },
    list: async () => {
      calls += 1;
      const answer = rows;
      if (gate) await gate;
      return { workflows: answer, truncated: false };
    },
  };
}

const row = (workflowId: string, ...localIds: string[]): VisibleWorkflow => ({
  workflowId,
  workflowType: 'referralWorkflow',
  status: 'RUNNING',
  attributes: { OpenPromptKinds: ['duty-decision'], OpenPromptsDue: localIds.map((localId) => `2026-01-05T17:00:00.000Z~${localId}`) },
});
const client = {} as Client;

describe('the prompt list keeps its visibility rows a few seconds', () => {
  it('lists once while fresh, answers a stale listing at once while one new listing runs, and lists again when too old', async () => {
    let now = 1_000_000;
    const visibility = fakeVisibility();
    const cache = new PromptListingCache({ freshMs: 5_000, staleMs: 60_000, now: () => now, list: visibility.list });
    visibility.set([row('referral-REF-1', 'duty-decision-1')]);
    expect((await cache.list(client, 'q', 100)).workflows.map((w) => w.workflowId)).toEqual(['referral-REF-1']);
    now += 4_000;
    visibility.set([row('referral-REF-1', 'duty-decision-1'), row('referral-REF-2', 'duty-decision-1')]);
    expect((await cache.list(client, 'q', 100)).workflows).toHaveLength(1);
    expect(visibility.calls).toBe(1);

    // Stale: the old rows at once, one listing behind them; the next request gets the new rows.
    now += 2_000;
    const release = visibility.hold();
    expect((await cache.list(client, 'q', 100)).workflows).toHaveLength(1);
    expect((await cache.list(client, 'q', 100)).workflows).toHaveLength(1);
    expect(visibility.calls).toBe(2);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await cache.list(client, 'q', 100)).workflows).toHaveLength(2);

    // Too old to answer with: the request waits for a new listing.
    now += 61_000;
    visibility.set([]);
    expect((await cache.list(client, 'q', 100)).workflows).toEqual([]);
    expect(visibility.calls).toBe(3);
    // Another query is listed on its own.
    await cache.list(client, 'other', 100);
    expect(visibility.calls).toBe(4);
  });

  it('drops a prompt answered through the API from rows listed before the answer, not from a later listing', async () => {
    let now = 2_000_000;
    const visibility = fakeVisibility();
    const cache = new PromptListingCache({ freshMs: 5_000, now: () => now, list: visibility.list });
    visibility.set([row('referral-REF-1', 'duty-decision-1', 'consent-override-1'), row('referral-REF-2', 'duty-decision-1')]);
    await cache.list(client, 'q', 100);
    now += 1_000;
    cache.answered('referral-REF-1~duty-decision-1');
    const after = await cache.list(client, 'q', 100);
    expect(after.workflows.map((w) => w.attributes.OpenPromptsDue)).toEqual([['2026-01-05T17:00:00.000Z~consent-override-1'], ['2026-01-05T17:00:00.000Z~duty-decision-1']]);

    // A listing that started after the answer is taken as it is (visibility has the answer by then, or a new prompt of that id).
    now += 10_000;
    visibility.set([row('referral-REF-1', 'duty-decision-1')]);
    // (the stale rows first, still without the answered prompt, while the new listing runs)
    expect((await cache.list(client, 'q', 100)).workflows[0]?.attributes.OpenPromptsDue).toEqual(['2026-01-05T17:00:00.000Z~consent-override-1']);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await cache.list(client, 'q', 100)).workflows[0]?.attributes.OpenPromptsDue).toEqual(['2026-01-05T17:00:00.000Z~duty-decision-1']);
  });
});
