import { WorkflowNotFoundError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { decodeMapFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { parseOpenPromptDue } from '../domain/prompt-due';
import { promptKinds, type Prompt, type PromptKind } from '../domain/prompts';
import { OPEN_PROMPTS_MEMO, openPromptsQuery } from '../workflows/messages';
import type { Principal } from './auth';
import type { RouteContext } from './context';
import { answerSchemaRef } from './decision-schemas';
import { scopeClause } from './scope';
import { decodePageToken, encodePageToken, literal, type VisibleWorkflow } from './visibility';
import { mapLimited } from '../common/map-limited';

/**
 * Open prompts within a caller's scope, oldest due first, a page at a time, for the
 * `GET /v1/prompts` route and the manager inbox. A query to a workflow is costly (one
 * outside the worker's cache replays its whole history), listing visibility rows less so
 * (and the listing is kept a few seconds: api/prompt-listing-cache.ts): so every matching
 * workflow is listed (its `OpenPromptsDue` attribute gives each open
 * prompt's due time), the prompts are ordered and paged here, and the page's prompts are
 * read from the rows' memos (cases since the open-prompts-memo patch keep their open
 * prompts there); only a case without that memo is queried. A page token is the
 * position after the page's last prompt (a keyset, not an offset), so a prompt answered
 * meanwhile does not shift the next page.
 */
export interface OpenPrompt extends Prompt {
  workflowId: string;
  team?: string;
  /** Where the JSON Schema of this prompt's answer is (a pointer into the OpenAPI document). */
  answerSchema: string;
}

export interface PromptListParams {
  team?: string;
  managerId?: string;
  kind?: string;
  pageSize?: number;
  nextPageToken?: string;
}

export interface PromptPage {
  prompts: OpenPrompt[];
  /** True only when this answer holds every open prompt in scope: no later page, nothing cut, every workflow read. */
  complete: boolean;
  nextPageToken?: string;
  /** Open prompts in scope as visibility last saw them (the pages together). */
  totalOpen: number;
  pageSize: number;
  truncated?: true;
  message?: string;
  unreadableWorkflowIds?: string[];
}

export const DEFAULT_PROMPT_PAGE_SIZE = 50;
export const MAX_PROMPT_PAGE_SIZE = 500;
/** The most workflows one list reads from visibility (rows, not queries). */
export const PROMPT_LIST_ROWS = 20_000;
/** Queries in flight at once for one page. */
const QUERY_LANES = 16;

/** One open prompt as the visibility row shows it: enough to order and page it. */
interface Slot {
  workflowId: string;
  kind: string;
  /** `<kind>-<n>`; undefined for a case from before the OpenPromptsDue attribute (its prompts of `kind`, whatever their number). */
  localId?: string;
  dueBy?: string;
  key: string;
}

/** Open prompts oldest-due first: those without a due time after those with one, then by when they were raised. */
export function sortPrompts<P extends Pick<Prompt, 'dueBy' | 'raisedAt'>>(prompts: P[]): P[] {
  const due = (prompt: P) => (prompt.dueBy ? Date.parse(prompt.dueBy) : Number.POSITIVE_INFINITY);
  return [...prompts].sort((a, b) => due(a) - due(b) || Date.parse(a.raisedAt) - Date.parse(b.raisedAt));
}

/** The slots of one visibility row, filtered to a kind. */
export function slotsOf(row: Pick<VisibleWorkflow, 'workflowId' | 'attributes'>, kind?: string): Slot[] {
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : typeof value === 'string' ? [value] : []);
  const due = row.attributes.OpenPromptsDue;
  const slots: Array<Omit<Slot, 'key'>> =
    due === undefined
      ? strings(row.attributes.OpenPromptKinds).map((openKind) => ({ workflowId: row.workflowId, kind: openKind }))
      : strings(due)
          .map(parseOpenPromptDue)
          .filter((entry) => entry !== undefined)
          .map((entry) => ({ workflowId: row.workflowId, ...entry }));
  // '~' sorts after every digit: prompts without a due time come last.
  return slots
    .filter((slot) => kind === undefined || slot.kind === kind)
    .map((slot) => ({ ...slot, key: `${slot.dueBy ?? '~'} ${slot.workflowId} ${slot.localId ?? slot.kind}` }));
}

/** Whether a failed query is explained by the workflow having closed since the listing (nothing open there any more). */
async function closedSince(ctx: RouteContext, workflowId: string, error: unknown): Promise<boolean> {
  if (error instanceof WorkflowNotFoundError) return true;
  try {
    return (await ctx.client.workflow.getHandle(workflowId).describe()).status.name !== 'RUNNING';
  } catch {
    return false;
  }
}

/** A row's open prompts as its memo holds them; undefined for a case without that memo (or one that cannot be decoded), which is queried instead. */
async function openPromptsFromMemo(ctx: RouteContext, row: VisibleWorkflow | undefined): Promise<Prompt[] | undefined> {
  const stored = row?.memo?.[OPEN_PROMPTS_MEMO];
  if (!stored) return undefined;
  try {
    const decoded = await decodeMapFromPayloads(ctx.client.options.loadedDataConverter, { [OPEN_PROMPTS_MEMO]: stored as Payload });
    const prompts = decoded?.[OPEN_PROMPTS_MEMO];
    return Array.isArray(prompts) ? (prompts as Prompt[]) : undefined;
  } catch {
    return undefined;
  }
}

export async function listOpenPrompts(ctx: RouteContext, principal: Principal, params: PromptListParams): Promise<PromptPage> {
  const pageSize = Math.min(params.pageSize ?? DEFAULT_PROMPT_PAGE_SIZE, MAX_PROMPT_PAGE_SIZE);
  const after = params.nextPageToken === undefined ? undefined : decodePageToken(params.nextPageToken, 'prompt-list').toString('utf8');
  const inScope = scopeClause(principal, params.team);
  const clauses = [`ExecutionStatus = 'Running'`, `OpenPromptKinds IN (${(params.kind ? [params.kind] : promptKinds).map(literal).join(', ')})`];
  if (inScope) clauses.push(inScope);
  if (params.managerId) clauses.push(`ManagerId = ${literal(params.managerId)}`);
  const { workflows, truncated } = await ctx.promptListings.list(ctx.client, clauses.join(' AND '), PROMPT_LIST_ROWS);

  const teams = new Map(workflows.map((row) => [row.workflowId, typeof row.attributes.Team === 'string' ? row.attributes.Team : undefined]));
  const slots = workflows.flatMap((row) => slotsOf(row, params.kind)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const start = after === undefined ? 0 : slots.findIndex((slot) => slot.key > after);
  const page = start < 0 ? [] : slots.slice(start, start + pageSize);
  const more = start >= 0 && start + pageSize < slots.length;

  // Only the page's workflows are queried; never a silent partial answer: a workflow whose prompts could not be read is named.
  const unreadable: string[] = [];
  const pageWorkflows = [...new Set(page.map((slot) => slot.workflowId))];
  const openByWorkflow = new Map<string, Prompt[]>();
  const rows = new Map(workflows.map((row) => [row.workflowId, row]));
  await mapLimited(pageWorkflows, QUERY_LANES, async (workflowId) => {
    const fromMemo = await openPromptsFromMemo(ctx, rows.get(workflowId));
    if (fromMemo) {
      openByWorkflow.set(workflowId, fromMemo);
      return;
    }
    try {
      openByWorkflow.set(workflowId, await ctx.client.workflow.getHandle(workflowId).query(openPromptsQuery));
    } catch (error) {
      if (!(await closedSince(ctx, workflowId, error))) unreadable.push(workflowId);
    }
  });
  // A slot whose prompt was answered since the listing has none; a prompt raised since is on a later list.
  const seen = new Set<string>();
  const prompts: OpenPrompt[] = page.flatMap((slot) =>
    (openByWorkflow.get(slot.workflowId) ?? [])
      .filter((prompt) => (slot.localId ? prompt.promptId === `${slot.workflowId}~${slot.localId}` : prompt.kind === slot.kind))
      .filter((prompt) => !seen.has(prompt.promptId) && seen.add(prompt.promptId))
      .map((prompt) => {
        const team = teams.get(slot.workflowId);
        return { ...prompt, workflowId: slot.workflowId, ...(team ? { team } : {}), answerSchema: answerSchemaRef(prompt.kind as PromptKind) };
      }),
  );
  const last = page[page.length - 1];
  return {
    prompts: sortPrompts(prompts),
    complete: !truncated && !more && unreadable.length === 0,
    ...(more && last ? { nextPageToken: encodePageToken(Buffer.from(last.key, 'utf8'), 'prompt-list') } : {}),
    totalOpen: slots.length,
    pageSize,
    ...(truncated ? { truncated: true as const, message: `more than ${PROMPT_LIST_ROWS} workflows have open prompts: narrow by team, managerId or kind` } : {}),
    ...(unreadable.length > 0 ? { unreadableWorkflowIds: unreadable.sort() } : {}),
  };
}
