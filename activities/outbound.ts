import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter } from 'prom-client';
import type { AppConfig } from '../common/config';
import { engineRegistry } from '../common/metrics';

/**
 * Outbound messages (notifications, case-system records). With a webhook URL they are
 * POSTed with a signature and an idempotency key, so the receiver can check where they
 * came from and drop a retried delivery; without one (never in production: see
 * common/config.ts) they go to a local outbox (one JSON line each, files mode 0600) that an
 * operator can read, written once per idempotency key.
 *
 * Signature, in the style of Stripe and Standard Webhooks: header `x-webhook-signature:
 * t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under OUTBOUND_WEBHOOK_SECRET.
 * The timestamp is signed with the body, so a receiver that refuses a `t` more than
 * 5 minutes from its clock cannot be fed an old delivery again (a replay).
 */
export interface OutboundConfig {
  webhookUrl?: string | undefined;
  webhookSecret?: string | undefined;
  outboxDir: string;
}

/**
 * The worker's outbound settings. Production needs the webhook: the local outbox is
 * plaintext files of case references on the machine's disk. (Only the worker checks this:
 * the API sends nothing and need not hold the webhook secret.)
 */
export function outboundFromConfig(config: Pick<AppConfig, 'OUTBOUND_WEBHOOK_URL' | 'OUTBOUND_WEBHOOK_SECRET' | 'outboxDir' | 'production'>): OutboundConfig {
  if (config.production && !config.OUTBOUND_WEBHOOK_URL) {
    throw new Error('invalid configuration: OUTBOUND_WEBHOOK_URL (with OUTBOUND_WEBHOOK_SECRET) is required when NODE_ENV=production: the local outbox is for one machine only');
  }
  return { webhookUrl: config.OUTBOUND_WEBHOOK_URL, webhookSecret: config.OUTBOUND_WEBHOOK_SECRET, outboxDir: config.outboxDir };
}

export interface OutboundMessage {
  channel: 'notification' | 'case-record';
  idempotencyKey: string;
  body: Record<string, unknown>;
}

export const SIGNATURE_HEADER = 'x-webhook-signature';
/** How far a signature's timestamp may be from the receiver's clock. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The signature header's value for a body sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string, timestamp: number = Math.floor(Date.now() / 1000)): string {
  if (!secret) throw new Error('refusing to sign a webhook with an empty secret (OUTBOUND_WEBHOOK_SECRET)');
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * What a receiver does with the header: the HMAC of `t.body` must match one `v1` (several
 * are allowed, for a secret being rotated), and `t` must be within the tolerance of `now`.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  now: number = Math.floor(Date.now() / 1000),
  toleranceSeconds: number = SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  if (!secret) return { ok: false, reason: 'no secret to verify with' };
  if (!header) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  const parts = header.split(',').map((part) => part.trim().split('='));
  const timestamps = parts.filter(([name]) => name === 't').map(([, value]) => value ?? '');
  const signatures = parts.filter(([name]) => name === 'v1').map(([, value]) => value ?? '');
  if (timestamps.length !== 1 || !/^\d{1,12}$/.test(timestamps[0]!)) return { ok: false, reason: 'the header needs exactly one t=<unix seconds>' };
  if (signatures.length === 0) return { ok: false, reason: 'the header has no v1 signature' };
  const timestamp = Number(timestamps[0]);
  if (Math.abs(now - timestamp) > toleranceSeconds) return { ok: false, reason: `timestamp ${timestamp} is more than ${toleranceSeconds} s from now (${now}): a replay, or a clock off` };
  const expected = Buffer.from(hmac(secret, timestamp, body), 'hex');
  const matches = signatures.some((signature) => {
    const given = /^[0-9a-f]+$/i.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { ok: true, timestamp } : { ok: false, reason: 'no v1 signature matches' };
}

/**
 * Every delivery attempt, in the worker process: an activity's retry is a new attempt, so
 * a receiver that is down counts one `failed` per try and a `delivered` once it is back.
 * `attempt` says whether it was the activity's first try or a retry (low cardinality, unlike the number).
 */
const deliveries = new Counter({
  name: 'assessments_outbound_deliveries_total',
  help: 'outbound delivery attempts (notifications, case-system records) by outcome, channel and whether the attempt was a retry',
  labelNames: ['outcome', 'channel', 'attempt'] as const,
  registers: [engineRegistry],
});

/** Delivers one message and counts the attempt; `attempt` is the activity's attempt number (1 = first try). */
export async function deliver(config: OutboundConfig, message: OutboundMessage, attempt = 1): Promise<{ delivered: 'webhook' | 'outbox' | 'already-in-outbox' }> {
  const labels = { channel: message.channel, attempt: attempt > 1 ? 'retry' : 'first' };
  try {
    const result = await send(config, message);
    deliveries.inc({ ...labels, outcome: 'delivered' });
    return result;
  } catch (error) {
    deliveries.inc({ ...labels, outcome: 'failed' });
    throw error;
  }
}

async function send(config: OutboundConfig, message: OutboundMessage): Promise<{ delivered: 'webhook' | 'outbox' | 'already-in-outbox' }> {
  const payload = JSON.stringify({ channel: message.channel, idempotencyKey: message.idempotencyKey, ...message.body });
  if (config.webhookUrl) {
    // An empty secret would sign with a key anyone knows. A plain error, so the activity
    // retries and delivers once the worker runs with its secret again.
    if (!config.webhookSecret) throw new Error('refusing to deliver an unsigned webhook: OUTBOUND_WEBHOOK_SECRET is empty');
    const response = await fetch(config.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': message.idempotencyKey,
        [SIGNATURE_HEADER]: signWebhook(config.webhookSecret, payload),
      },
      body: payload,
      // A redirect would carry the signed body to an address nobody configured.
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    return { delivered: 'webhook' };
  }
  await mkdir(config.outboxDir, { recursive: true, mode: 0o700 });
  const file = join(config.outboxDir, `${message.channel}.jsonl`);
  return (await appendOnce(file, message.idempotencyKey, payload)) ? { delivered: 'outbox' } : { delivered: 'already-in-outbox' };
}

/**
 * The local outbox's index: per file, the idempotency keys it holds and the size it had
 * after the last write this process knows of. A delivery costs a `stat` and a set lookup,
 * not a scan of the file (which made every delivery O(file) and, with thousands of cases
 * open, held the worker's event loop for seconds). The file is read again only when its
 * size is not the one this process left it at: another process wrote to it, or it was
 * truncated or removed. Writes to one file are serialised, so two attempts of one
 * delivery in flight at once still write one line.
 */
interface OutboxIndex {
  keys: Set<string>;
  size: number;
  /** The tail of this file's serialised operations. */
  queue: Promise<unknown>;
}
const outboxIndexes = new Map<string, OutboxIndex>();

async function sizeOf(file: string): Promise<number> {
  return stat(file).then(
    (info) => info.size,
    () => 0,
  );
}

async function readIndex(file: string): Promise<{ keys: Set<string>; size: number }> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const key = (JSON.parse(line) as { idempotencyKey?: unknown }).idempotencyKey;
      if (typeof key === 'string') keys.add(key);
    } catch {
      // a torn last line (a crash mid-append): its delivery is retried and written whole
    }
  }
  return { keys, size: Buffer.byteLength(text) };
}

/** Appends `payload` as one line unless `key` is in the file already; true when it wrote. */
function appendOnce(file: string, key: string, payload: string): Promise<boolean> {
  let index = outboxIndexes.get(file);
  if (!index) {
    index = { keys: new Set(), size: -1, queue: Promise.resolve() };
    outboxIndexes.set(file, index);
  }
  const own = index;
  const operation = own.queue.then(async () => {
    if ((await sizeOf(file)) !== own.size) Object.assign(own, await readIndex(file));
    if (own.keys.has(key)) return false;
    const line = `${payload}\n`;
    // Case references: readable by the owner only.
    await appendFile(file, line, { mode: 0o600 });
    own.keys.add(key);
    own.size += Buffer.byteLength(line);
    return true;
  });
  own.queue = operation.catch(() => undefined);
  return operation;
}
