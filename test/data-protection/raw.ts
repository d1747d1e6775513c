/**
 * Reading what the Temporal server stores, WITHOUT the codec: the view anyone with
 * database or frontend access has.
 */
import { Connection } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export async function rawConnection(address: string): Promise<Connection> {
  return Connection.connect({ address });
}

/** The whole history as the server hands it out (no data converter involved). */
export async function rawHistory(connection: Connection, namespace: string, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  for (;;) {
    const page = await connection.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, nextPageToken });
    events.push(...(page.history?.events ?? []));
    if (!page.nextPageToken || page.nextPageToken.length === 0) return events;
    nextPageToken = page.nextPageToken;
  }
}

const isBytes = (value: unknown): value is Uint8Array => value instanceof Uint8Array;
const isLong = (value: unknown): value is { toString(): string; low: number; high: number } =>
  typeof value === 'object' && value !== null && 'low' in value && 'high' in value && typeof (value as { toString: unknown }).toString === 'function';

/**
 * Everything readable in an object tree, as text: every key, every string, every number,
 * and every byte field both decoded as UTF-8 and as base64 (payload data, failure
 * attributes, search attributes, memo, tokens). A marker anywhere in there is found.
 */
export function flatten(value: unknown, out: string[] = [], seen = new Set<unknown>()): string[] {
  if (value === null || value === undefined) return out;
  if (typeof value === 'string') {
    out.push(value);
    return out;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    out.push(String(value));
    return out;
  }
  if (isBytes(value)) {
    const buffer = Buffer.from(value);
    out.push(buffer.toString('utf8'), buffer.toString('latin1'), buffer.toString('base64'));
    return out;
  }
  if (isLong(value)) {
    out.push(value.toString());
    return out;
  }
  if (typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const item of value) flatten(item, out, seen);
    return out;
  }
  for (const [key, item] of Object.entries(value)) {
    out.push(key);
    flatten(item, out, seen);
  }
  // Proto messages also print through toJSON (enums by name, bytes as base64).
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') out.push(JSON.stringify(toJSON.call(value)));
  return out;
}

export const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

export interface FoundPayload {
  /** Where in the tree, e.g. events.3.workflowExecutionSignaledEventAttributes.input.payloads.0 */
  path: string;
  payload: Payload;
}

/** Every Payload in an object tree (anything with byte `data` and a `metadata` map of bytes). */
export function findPayloads(value: unknown, path = '', out: FoundPayload[] = [], seen = new Set<unknown>()): FoundPayload[] {
  if (value === null || typeof value !== 'object' || isBytes(value) || seen.has(value)) return out;
  seen.add(value);
  const candidate = value as { metadata?: unknown; data?: unknown };
  if (candidate.metadata && typeof candidate.metadata === 'object' && Object.values(candidate.metadata).every(isBytes) && (candidate.data === undefined || candidate.data === null || isBytes(candidate.data))) {
    out.push({ path, payload: candidate as Payload });
    return out;
  }
  for (const [key, item] of Object.entries(value)) findPayloads(item, path ? `${path}.${key}` : key, out, seen);
  return out;
}

/** The decrypted form of every payload in a tree, as text (the positive control). */
export async function decodedText(value: unknown, codec: PayloadCodec): Promise<string> {
  const found = findPayloads(value);
  const decoded = await codec.decode(found.map((item) => item.payload));
  return decoded.map((payload) => `${JSON.stringify(Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, bytes]) => [key, text(bytes)])))} ${text(payload.data)}`).join('\n');
}
