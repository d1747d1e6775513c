import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { decodeSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { decodeArrayFromPayloads, decodeMapFromPayloads, decodeOptionalSinglePayload } from '@temporalio/common/lib/internal-non-workflow';
import type { LoadedDataConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { eventRules, type DomainEventType } from '../domain/events';
import { ruleOfPromptId } from '../domain/prompts';

/** One Temporal history event with its payloads decoded through the client's data converter. */
export interface DecodedEvent {
  workflowId: string;
  eventId: number;
  time: string;
  type: string;
  attributes: Record<string, unknown>;
}

/** A readable line of the timeline. */
export interface TimelineEntry {
  time: string;
  workflowId: string;
  eventId: number;
  what: string;
  who?: string;
  rule?: string;
  ref?: string;
}

const MAX_WORKFLOWS = 50;
/** Caps per request, so that one history cannot tie up the API or fill its memory. */
export const HISTORY_LIMITS = { events: 20_000, bytes: 8 * 1024 * 1024 };

export interface DecodedHistories {
  events: DecodedEvent[];
  /** Set when a cap stopped the walk: the answer says so rather than looking complete. */
  truncated?: { reason: string };
}

/**
 * The histories of a workflow and of its children (found from ChildWorkflowExecutionStarted
 * events, recursively), decoded through the client's loaded data converter, so that
 * encrypted payloads are decrypted by the same codec the client uses. A child for which
 * `includeChild` answers false (out of the caller's scope) is left out.
 */
export async function decodedHistories(
  client: Client,
  workflowId: string,
  includeChild: (workflowId: string) => Promise<boolean> = async () => true,
  limits = HISTORY_LIMITS,
): Promise<DecodedHistories> {
  const converter = client.options.loadedDataConverter;
  const queue = [workflowId];
  const seen = new Set<string>();
  const events: DecodedEvent[] = [];
  let bytes = 0;
  let truncated: DecodedHistories['truncated'];
  walk: while (queue.length > 0) {
    if (seen.size >= MAX_WORKFLOWS) {
      truncated = { reason: `more than ${MAX_WORKFLOWS} workflows` };
      break;
    }
    const id = queue.shift() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    if (id !== workflowId && !(await includeChild(id))) continue;
    for (const event of await fetchRuns(client, id)) {
      const decoded = await decodeEvent(converter, id, event);
      bytes += JSON.stringify(decoded).length;
      if (events.length >= limits.events || bytes > limits.bytes) {
        truncated = { reason: events.length >= limits.events ? `more than ${limits.events} events` : `more than ${limits.bytes} bytes` };
        break walk;
      }
      events.push(decoded);
      const child = decoded.attributes.workflowExecution as { workflowId?: string } | undefined;
      if (decoded.type === 'CHILD_WORKFLOW_EXECUTION_STARTED' && child?.workflowId) queue.push(child.workflowId);
    }
  }
  events.sort((a, b) => (a.time === b.time ? 0 : a.time < b.time ? -1 : 1));
  return { events, ...(truncated ? { truncated } : {}) };
}

const GRPC_NOT_FOUND = 5;
/** Runs of one workflow read back through its continuations (a child in need plan continues as new, issue 13). */
const MAX_RUNS = 50;

/**
 * The events of a workflow's runs, oldest run first: the current run, then each run it
 * continued from (its first event names it), so a continued case's timeline is whole.
 */
async function fetchRuns(client: Client, workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const runs: temporal.api.history.v1.IHistoryEvent[][] = [];
  let runId: string | undefined;
  do {
    const events = (await fetchHistory(client, workflowId, runId)).events ?? [];
    runs.unshift(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  } while (runId && runs.length < MAX_RUNS);
  return runs.flat();
}

/**
 * The handle's fetchHistory lets the raw gRPC error through (unlike describe or query), so
 * a workflow that does not exist is turned into the WorkflowNotFoundError the routes answer 404 for.
 */
async function fetchHistory(client: Client, workflowId: string, runId?: string): Promise<temporal.api.history.v1.IHistory> {
  try {
    return await client.workflow.getHandle(workflowId, runId).fetchHistory();
  } catch (error) {
    if ((error as { code?: unknown })?.code === GRPC_NOT_FOUND) throw new WorkflowNotFoundError(`no workflow ${workflowId}`, workflowId, undefined);
    throw error;
  }
}

async function decodeEvent(converter: LoadedDataConverter, workflowId: string, event: temporal.api.history.v1.IHistoryEvent): Promise<DecodedEvent> {
  const typeName = temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'UNKNOWN';
  const attributesKey = Object.keys(event).find((key) => key.endsWith('EventAttributes') && (event as Record<string, unknown>)[key]);
  const attributes = attributesKey ? ((await plain(converter, (event as Record<string, unknown>)[attributesKey], '')) as Record<string, unknown>) : {};
  return {
    workflowId,
    eventId: toNumber(event.eventId),
    time: timestampToIso(event.eventTime),
    type: typeName.replace(/^EVENT_TYPE_/, ''),
    attributes: attributes ?? {},
  };
}

function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && 'toNumber' in value && typeof value.toNumber === 'function') return value.toNumber() as number;
  return Number(value);
}

function timestampToIso(value: temporal.api.history.v1.IHistoryEvent['eventTime']): string {
  if (!value) return '';
  return new Date(toNumber(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6)).toISOString();
}

const isLong = (value: object): boolean => 'low' in value && 'high' in value && 'unsigned' in value;

/** Turns a proto message into plain JSON, decoding payloads, memo and search attributes. */
async function plain(converter: LoadedDataConverter, value: unknown, key: string): Promise<unknown> {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (isLong(value)) return toNumber(value);
  if (Array.isArray(value)) return Promise.all(value.map((item) => plain(converter, item, key)));
  const record = value as Record<string, unknown>;
  if (Array.isArray(record.payloads)) {
    try {
      return await decodeArrayFromPayloads(converter, record.payloads as never);
    } catch {
      return { undecodable: true };
    }
  }
  if (key === 'header') return undefined;
  // A failure's message and stack, when the data converter encodes them (encodeCommonAttributes).
  if (key === 'encodedAttributes') {
    try {
      return await decodeOptionalSinglePayload(converter, record as never);
    } catch {
      return { undecodable: true };
    }
  }
  if (key === 'memo') {
    try {
      return await decodeMapFromPayloads(converter, record.fields as never);
    } catch {
      return { undecodable: true };
    }
  }
  if (key === 'searchAttributes') return decodeSearchAttributes(record.indexedFields as never);
  if ('seconds' in record && Object.keys(record).every((k) => k === 'seconds' || k === 'nanos')) {
    const ms = toNumber(record.seconds) * 1000 + Math.floor(toNumber(record.nanos) / 1e6);
    return /Time$|Timestamp$/i.test(key) ? new Date(ms).toISOString() : `${ms / 1000}s`;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    const converted = await plain(converter, v, k);
    if (converted !== undefined) out[k] = converted;
  }
  return out;
}

type Args = unknown[] | undefined;

/** What a message's first argument says: an event, a decision or something else. */
function describeMessage(name: string, args: Args): Pick<TimelineEntry, 'what' | 'who' | 'rule' | 'ref'> {
  const first = (Array.isArray(args) ? args[0] : undefined) as Record<string, unknown> | undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const type = str(first?.type);
  const promptId = str(first?.promptId);
  const rule =
    str(first?.rule) ??
    ((name === 'event' || name === 'recordEvent') && type && type in eventRules ? eventRules[type as DomainEventType] : undefined) ??
    ((name === 'decide' || name === 'managerDecision') && promptId ? ruleOfPromptId(promptId) : undefined);
  if ((name === 'event' || name === 'recordEvent') && first) {
    // Who acted, and the system that sent it for them when that is someone else.
    const via = str(first.submittedBy) !== undefined && str(first.submittedBy) !== str(first.actor) ? ` (sent by ${str(first.submittedBy)})` : '';
    const backdated = first.backdated === true ? ', back-dated' : '';
    const actor = str(first.actor);
    return { what: `event ${str(first.type) ?? '?'} received${backdated}`, ...(actor ? { who: `${actor}${via}` } : {}), ref: str(first.eventId), ...(rule ? { rule } : {}) };
  }
  if ((name === 'decide' || name === 'managerDecision') && first) {
    return { what: `decision '${str(first.decision) ?? '?'}' on ${str(first.promptId) ?? '?'}`, who: str(first.decidedBy), ref: str(first.promptId), ...(rule ? { rule } : {}) };
  }
  return { what: `message ${name}`, ...(first && str(first.actor) ? { who: str(first.actor) } : {}), ...(rule ? { rule } : {}) };
}

const silent = new Set(['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED', 'MARKER_RECORDED']);

/** The readable timeline: time, what happened, who, which rule. */
export function toTimeline(events: DecodedEvent[]): TimelineEntry[] {
  const timeline: TimelineEntry[] = [];
  for (const event of events) {
    if (silent.has(event.type)) continue;
    const a = event.attributes as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const base = { time: event.time, workflowId: event.workflowId, eventId: event.eventId };
    switch (event.type) {
      case 'WORKFLOW_EXECUTION_STARTED':
        timeline.push({ ...base, what: a.continuedExecutionRunId ? `workflow ${a.workflowType?.name ?? ''} continued in a new run` : `workflow ${a.workflowType?.name ?? ''} started` });
        break;
      case 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW':
        timeline.push({ ...base, what: 'run handed over to a new run (continue-as-new: its history had grown to the bound)' });
        break;
      case 'WORKFLOW_EXECUTION_SIGNALED':
        timeline.push({ ...base, ...describeMessage(String(a.signalName), a.input as Args) });
        break;
      case 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED':
        timeline.push({ ...base, ...describeMessage(String(a.acceptedRequest?.input?.name), a.acceptedRequest?.input?.args as Args) });
        break;
      case 'WORKFLOW_EXECUTION_UPDATE_COMPLETED': {
        const result = Array.isArray(a.outcome?.success) ? (a.outcome.success[0] as Record<string, unknown> | undefined) : undefined;
        const outcome = a.outcome?.failure ? `failed: ${a.outcome.failure.message ?? ''}` : result && 'duplicate' in result ? (result.duplicate ? 'a duplicate, nothing changed' : 'applied') : 'completed';
        timeline.push({ ...base, what: `update ${outcome}` });
        break;
      }
      case 'ACTIVITY_TASK_SCHEDULED':
        timeline.push({ ...base, what: `activity ${a.activityType?.name ?? ''} scheduled` });
        break;
      case 'ACTIVITY_TASK_COMPLETED':
        timeline.push({ ...base, what: 'activity completed' });
        break;
      case 'ACTIVITY_TASK_FAILED':
        timeline.push({ ...base, what: `activity failed: ${a.failure?.message ?? ''}` });
        break;
      case 'TIMER_STARTED':
        timeline.push({ ...base, what: `deadline timer set (${a.startToFireTimeout ?? ''})` });
        break;
      case 'TIMER_FIRED':
        timeline.push({ ...base, what: 'deadline timer fired' });
        break;
      case 'CHILD_WORKFLOW_EXECUTION_STARTED':
        timeline.push({ ...base, what: `child workflow ${a.workflowExecution?.workflowId ?? ''} started`, ref: a.workflowExecution?.workflowId });
        break;
      case 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES': {
        const attributes = a.searchAttributes as Record<string, unknown> | undefined;
        const stage = attributes?.AssessmentStage;
        timeline.push({ ...base, what: `status updated${stage ? ` (stage ${Array.isArray(stage) ? stage.join(',') : String(stage)})` : ''}` });
        break;
      }
      default:
        timeline.push({ ...base, what: event.type.toLowerCase().replace(/_/g, ' ') });
    }
  }
  return timeline;
}
