import type { Client } from '@temporalio/client';
import { listAll, type VisibleWorkflow } from './visibility';

/**
 * The visibility rows behind the prompt list, kept a few seconds per query.
 *
 * Every inbox page orders all of its scope's open prompts, so every request listed every
 * matching workflow: with 5,000 open on the dev server that listing alone took seconds
 * (`npm run bench:inbox`), and a manager paging through the inbox paid it per page. Here a
 * listing serves every request of the same query for `freshMs`; after that, a request
 * still gets it at once (up to `staleMs`) while one new listing runs behind it. A prompt
 * answered through this API is dropped from what is kept at once (`answered`), so the
 * inbox a manager returns to after a decision no longer shows it; one answered elsewhere
 * or raised since shows within `freshMs` plus a listing, as visibility itself lags.
 */
export interface Listing {
  workflows: VisibleWorkflow[];
  truncated: boolean;
  /** When the listing that made these rows started. */
  listedAt: number;
}

export interface PromptListingCacheOptions {
  freshMs?: number;
  staleMs?: number;
  /** Queries kept at once (a query per scope and filter); the least recently used goes first. */
  maxQueries?: number;
  now?: () => number;
  /** How rows are listed (tests give their own). */
  list?: (client: Client, query: string, limit: number) => Promise<{ workflows: VisibleWorkflow[]; truncated: boolean }>;
}

export class PromptListingCache {
  private readonly entries = new Map<string, { listing?: Listing; refreshing?: Promise<Listing> }>();
  /** Prompt ids answered through this API, with when: dropped from any listing that started before. */
  private readonly answeredAt = new Map<string, number>();
  private readonly freshMs: number;
  private readonly staleMs: number;
  private readonly maxQueries: number;
  private readonly now: () => number;
  private readonly listRows: NonNullable<PromptListingCacheOptions['list']>;

  constructor(options: PromptListingCacheOptions = {}) {
    this.freshMs = options.freshMs ?? 5_000;
    this.staleMs = options.staleMs ?? 60_000;
    this.maxQueries = options.maxQueries ?? 50;
    this.now = options.now ?? Date.now;
    this.listRows = options.list ?? listAll;
  }

  async list(client: Client, query: string, limit: number): Promise<Listing> {
    const key = `${limit}\u0000${query}`;
    const entry = this.entries.get(key) ?? {};
    this.entries.delete(key);
    this.entries.set(key, entry); // most recently used last
    while (this.entries.size > this.maxQueries) this.entries.delete(this.entries.keys().next().value as string);

    const age = entry.listing ? this.now() - entry.listing.listedAt : Number.POSITIVE_INFINITY;
    if (age > this.freshMs && !entry.refreshing) {
      const started = this.now();
      entry.refreshing = this.listRows(client, query, limit)
        .then(({ workflows, truncated }) => {
          entry.listing = { workflows, truncated, listedAt: started };
          this.forgetAnsweredBefore();
          return entry.listing;
        })
        .finally(() => {
          entry.refreshing = undefined;
        });
      // A refresh behind a stale answer fails quietly: the next request lists again.
      entry.refreshing.catch(() => undefined);
    }
    const listing = entry.listing && age <= this.staleMs ? entry.listing : await (entry.refreshing as Promise<Listing>);
    return this.withoutAnswered(listing);
  }

  /** A prompt answered through this API: no kept listing shows it again. */
  answered(promptId: string): void {
    this.answeredAt.set(promptId, this.now());
  }

  private withoutAnswered(listing: Listing): Listing {
    const dropped = new Set([...this.answeredAt].filter(([, at]) => at >= listing.listedAt).map(([promptId]) => promptId));
    if (dropped.size === 0) return listing;
    const workflows = listing.workflows.map((row) => withoutPrompts(row, dropped));
    return { ...listing, workflows };
  }

  /** Answers older than every kept listing are in those listings already. */
  private forgetAnsweredBefore(): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const entry of this.entries.values()) if (entry.listing) oldest = Math.min(oldest, entry.listing.listedAt);
    for (const [promptId, at] of this.answeredAt) if (at < oldest) this.answeredAt.delete(promptId);
  }
}

/** A row with the given prompts taken out of its `OpenPromptsDue` entries (`<due>~<localId>`; a prompt id is `<workflowId>~<localId>`). */
function withoutPrompts(row: VisibleWorkflow, promptIds: Set<string>): VisibleWorkflow {
  const entries = row.attributes.OpenPromptsDue;
  if (!Array.isArray(entries)) return row;
  const kept = entries.filter((entry) => typeof entry !== 'string' || !promptIds.has(`${row.workflowId}~${entry.slice(entry.indexOf('~') + 1)}`));
  return kept.length === entries.length ? row : { ...row, attributes: { ...row.attributes, OpenPromptsDue: kept } };
}
