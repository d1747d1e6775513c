import type { Client } from '@temporalio/client';
import { Gauge } from 'prom-client';
import { engineRegistry } from '../common/metrics';
import { promptKinds } from '../domain/prompts';
import { slotsOf } from './prompt-list';
import { listAll, literal } from './visibility';

/**
 * Open prompts by kind and team, and the oldest due time of each, computed when Prometheus
 * scrapes: from the visibility rows the prompt list reads (`OpenPromptsDue`,
 * `OpenPromptKinds`, `Team`: api/prompt-list.ts), never a query to a workflow. One listing
 * serves every scrape for `CACHE_MS` and concurrent scrapes share it, so scrapes never fan
 * out; the listing stops at `ROWS` workflows (`assessments_prompt_metrics_truncated` then 1).
 * A case shows at most its 25 earliest prompts in `OpenPromptsDue` (domain/prompt-due.ts).
 */
export const CACHE_MS = 30_000;
export const ROWS = 20_000;
/** A scrape does not wait on visibility longer than this (Prometheus's default scrape timeout is 10 s). */
const LIST_DEADLINE_MS = 8_000;

const kinds = new Set<string>(promptKinds);
/** Labels hold only codes this engine writes: anything else is `other`, never free text. */
const kindLabel = (kind: string) => (kinds.has(kind) ? kind : 'other');
const teamLabel = (team: unknown) => (typeof team !== 'string' ? 'none' : /^[A-Za-z0-9_-]{1,64}$/.test(team) ? team : 'other');

interface Listing {
  open: Map<string, { kind: string; team: string; count: number; oldestDue?: number }>;
  truncated: boolean;
  /** When this listing was read (Unix ms). */
  at: number;
}

let source: { client: Client; warn: (message: string) => void } | undefined;
/** The last listing that succeeded; a failed one keeps it (its age shows in the refreshed gauge). */
let listing: Listing | undefined;
/** When a listing was last tried, succeeded or not: the next is not tried before CACHE_MS after it. */
let triedAt = 0;
let inFlight: Promise<void> | undefined;

async function list(client: Client): Promise<Listing> {
  const query = `ExecutionStatus = 'Running' AND OpenPromptKinds IN (${promptKinds.map(literal).join(', ')})`;
  const { workflows, truncated } = await client.withDeadline(Date.now() + LIST_DEADLINE_MS, () => listAll(client, query, ROWS));
  const open: Listing['open'] = new Map();
  for (const row of workflows) {
    const team = teamLabel(row.attributes.Team);
    for (const slot of slotsOf(row)) {
      const kind = kindLabel(slot.kind);
      const key = `${kind}\0${team}`;
      const entry = open.get(key) ?? { kind, team, count: 0 };
      entry.count += 1;
      const due = slot.dueBy === undefined ? Number.NaN : Date.parse(slot.dueBy);
      if (!Number.isNaN(due) && (entry.oldestDue === undefined || due < entry.oldestDue)) entry.oldestDue = due;
      open.set(key, entry);
    }
  }
  return { open, truncated, at: Date.now() };
}

/** The listing no older than CACHE_MS; every gauge of one scrape, and concurrent scrapes, share one. */
async function current(): Promise<Listing | undefined> {
  const from = source;
  if (!from) return undefined;
  if (!inFlight && Date.now() - triedAt >= CACHE_MS) {
    inFlight = list(from.client)
      .then(
        (fresh) => {
          if (source === from) listing = fresh;
        },
        (error: unknown) => from.warn(`prompt metrics: listing open prompts from visibility failed: ${(error as Error).message}`),
      )
      .finally(() => {
        if (source !== from) return;
        triedAt = Date.now();
        inFlight = undefined;
      });
  }
  await inFlight;
  return listing;
}

new Gauge({
  name: 'assessments_prompts_open',
  help: 'decision prompts open, by kind and team (visibility, refreshed at most every 30 s)',
  labelNames: ['kind', 'team'] as const,
  registers: [engineRegistry],
  async collect() {
    const listed = await current();
    this.reset();
    for (const entry of listed?.open.values() ?? []) this.set({ kind: entry.kind, team: entry.team }, entry.count);
  },
});

new Gauge({
  name: 'assessments_prompt_oldest_due_timestamp_seconds',
  help: 'the earliest due time of an open prompt, by kind and team, in Unix seconds: in the past means a prompt is overdue',
  labelNames: ['kind', 'team'] as const,
  registers: [engineRegistry],
  async collect() {
    const listed = await current();
    this.reset();
    for (const entry of listed?.open.values() ?? []) if (entry.oldestDue !== undefined) this.set({ kind: entry.kind, team: entry.team }, entry.oldestDue / 1000);
  },
});

new Gauge({
  name: 'assessments_prompt_metrics_refreshed_timestamp_seconds',
  help: 'when the prompt metrics were last listed from visibility successfully, in Unix seconds (0 = not yet; stale when visibility fails)',
  registers: [engineRegistry],
  async collect() {
    const listed = await current();
    // 0 until a listing succeeds, so that a process that never lists shows as stale rather than not at all.
    this.set(listed ? listed.at / 1000 : 0);
  },
});

new Gauge({
  name: 'assessments_prompt_metrics_truncated',
  help: `1 when more than ${ROWS} workflows have open prompts and the prompt metrics count only the first ${ROWS}`,
  registers: [engineRegistry],
  async collect() {
    const listed = await current();
    this.set(listed?.truncated ? 1 : 0);
  },
});

/**
 * Serves the prompt metrics from this client's namespace (the API's process, or `npm start`).
 * Called again (a test), it reads from the new client from the next scrape on.
 */
export function watchOpenPrompts(client: Client, warn: (message: string) => void = (message) => console.warn(message)): void {
  source = { client, warn };
  listing = undefined;
  triedAt = 0;
  inFlight = undefined;
}
