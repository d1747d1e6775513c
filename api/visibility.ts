import type { Client } from '@temporalio/client';
import { decodeSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { temporal } from '@temporalio/proto';

/** One workflow as the visibility store sees it (search attributes hold only opaque refs, stages, dates and flags). */
export interface VisibleWorkflow {
  workflowId: string;
  workflowType: string;
  status: string;
  startTime?: string;
  closeTime?: string;
  attributes: Record<string, unknown>;
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
  for (const [key, value] of Object.entries(raw)) attributes[key] = key === 'OpenPromptKinds' ? value : single(value);
  const status = temporal.api.enums.v1.WorkflowExecutionStatus[info.status ?? 0] ?? 'UNKNOWN';
  return {
    workflowId: info.execution?.workflowId ?? '',
    workflowType: info.type?.name ?? '',
    status: status.replace(/^WORKFLOW_EXECUTION_STATUS_/, ''),
    startTime: timestamp(info.startTime),
    closeTime: timestamp(info.closeTime),
    attributes,
  };
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
    nextPageToken: nextPageToken ? Buffer.from(nextPageToken, 'base64url') : undefined,
  });
  const token = response.nextPageToken && response.nextPageToken.length > 0 ? Buffer.from(response.nextPageToken).toString('base64url') : undefined;
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
