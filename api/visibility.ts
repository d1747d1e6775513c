import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { decodeSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { temporal } from '@temporalio/proto';
import { HttpError } from './errors';

/** One workflow as the visibility store sees it (search attributes hold only opaque refs, stages, dates and flags). */
export interface VisibleWorkflow {
  workflowId: string;
  workflowType: string;
  status: string;
  startTime?: string;
  closeTime?: string;
  attributes: Record<string, unknown>;
  /** The memo's fields as stored (payloads still encoded): decoded only for the rows a caller shows. */
  memo?: Record<string, temporal.api.common.v1.IPayload>;
}

/** A quoted literal for a visibility query; values are validated codes, and quotes are refused anyway. */
export function literal(value: string): string {
  if (!/^[A-Za-z0-9_:.+-]*$/.test(value)) throw new Error('unsafe visibility literal');
  return `'${value}'`;
}

function timestamp(value: temporal.api.workflow.v1.IWorkflowExecutionInfo['startTime']): string | undefined {
  if (!value) return undefined;
  const seconds = typeof value.seconds === 'number' ? value.seconds : Number(value.seconds?.toString() ?? 0);
  return new Date(seconds * 1000 + Math.floor((value.nanos ?? 0) / 1e6)).toISOString();
}

function single(value: unknown): unknown {
  return Array.isArray(value) && value.length === 1 && !(value[0] instanceof Array) ? value[0] : value;
}

export function toVisible(info: temporal.api.workflow.v1.IWorkflowExecutionInfo): VisibleWorkflow {
  const raw = decodeSearchAttributes(info.searchAttributes?.indexedFields) as Record<string, unknown[]>;
  const attributes: Record<string, unknown> = {};
  // Keyword lists stay lists, even of one.
  for (const [key, value] of Object.entries(raw)) attributes[key] = key === 'OpenPromptKinds' || key === 'OpenPromptsDue' ? value : single(value);
  const status = temporal.api.enums.v1.WorkflowExecutionStatus[info.status ?? 0] ?? 'UNKNOWN';
  return {
    workflowId: info.execution?.workflowId ?? '',
    workflowType: info.type?.name ?? '',
    status: status.replace(/^WORKFLOW_EXECUTION_STATUS_/, ''),
    startTime: timestamp(info.startTime),
    closeTime: timestamp(info.closeTime),
    attributes,
    ...(info.memo?.fields ? { memo: info.memo.fields } : {}),
  };
}

const SEAL_BYTES = 8;
/**
 * What a token is for: a visibility page (Temporal's own token) or a position in the
 * prompt list. A token issued for one is refused by the other (a prompt-list position sent
 * to the assessment list reached Temporal as its page token: found by schemathesis).
 */
export type PageTokenPurpose = 'visibility' | 'prompt-list';
const seal = (purpose: PageTokenPurpose, raw: Uint8Array) => createHash('sha256').update(`${purpose}\0`).update(raw).digest().subarray(0, SEAL_BYTES);

/**
 * A page token as this API hands it out: Temporal's token behind the first 8 bytes of its
 * SHA-256, base64url. Temporal answers a token it never issued with an internal error
 * (which the client retries for seconds), so a token whose check does not match is
 * refused here: 400 naming nextPageToken.
 */
export function encodePageToken(raw: Uint8Array, purpose: PageTokenPurpose = 'visibility'): string {
  return Buffer.concat([seal(purpose, raw), raw]).toString('base64url');
}

export function decodePageToken(token: string, purpose: PageTokenPurpose = 'visibility'): Buffer {
  const bytes = Buffer.from(token, 'base64url');
  const raw = bytes.subarray(SEAL_BYTES);
  if (bytes.length <= SEAL_BYTES || !seal(purpose, raw).equals(bytes.subarray(0, SEAL_BYTES))) {
    throw new HttpError(400, 'invalid-request', 'the request is invalid', {
      issues: [{ path: 'nextPageToken', message: 'is not a page token this API issued: send the nextPageToken of the previous page as it came' }],
    });
  }
  return raw;
}

/** One page of a visibility query. */
export async function listPage(
  client: Client,
  query: string,
  pageSize: number,
  nextPageToken?: string,
): Promise<{ workflows: VisibleWorkflow[]; nextPageToken?: string }> {
  const response = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query,
    pageSize,
    nextPageToken: nextPageToken ? decodePageToken(nextPageToken) : undefined,
  });
  const token = response.nextPageToken && response.nextPageToken.length > 0 ? encodePageToken(response.nextPageToken) : undefined;
  return { workflows: (response.executions ?? []).map(toVisible), ...(token ? { nextPageToken: token } : {}) };
}

/** Every workflow a query matches, up to a limit; `truncated` says when more matched. */
export async function listAll(client: Client, query: string, limit = 2000): Promise<{ workflows: VisibleWorkflow[]; truncated: boolean }> {
  const all: VisibleWorkflow[] = [];
  let token: string | undefined;
  do {
    // One more than the limit, to know whether the limit cut the answer.
    const page = await listPage(client, query, Math.min(500, limit + 1 - all.length), token);
    all.push(...page.workflows);
    token = page.nextPageToken;
  } while (token && all.length <= limit);
  return { workflows: all.slice(0, limit), truncated: all.length > limit };
}
