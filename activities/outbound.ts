import { createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Outbound messages (notifications, case-system records). With a webhook URL they are
 * POSTed with an HMAC-SHA256 signature over the body and an idempotency key, so the
 * receiver can drop a retried delivery; without one they go to a local outbox (one JSON
 * line each) that an operator can read, written once per idempotency key.
 */
export interface OutboundConfig {
  webhookUrl?: string;
  webhookSecret?: string;
  outboxDir: string;
}

export interface OutboundMessage {
  channel: 'notification' | 'case-record';
  idempotencyKey: string;
  body: Record<string, unknown>;
}

export async function deliver(config: OutboundConfig, message: OutboundMessage): Promise<{ delivered: 'webhook' | 'outbox' | 'already-in-outbox' }> {
  const payload = JSON.stringify({ channel: message.channel, idempotencyKey: message.idempotencyKey, ...message.body });
  if (config.webhookUrl) {
    const signature = createHmac('sha256', config.webhookSecret ?? '').update(payload).digest('hex');
    const response = await fetch(config.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': message.idempotencyKey,
        'x-signature-sha256': signature,
      },
      body: payload,
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    return { delivered: 'webhook' };
  }
  await mkdir(config.outboxDir, { recursive: true });
  const file = join(config.outboxDir, `${message.channel}.jsonl`);
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.includes(`"idempotencyKey":${JSON.stringify(message.idempotencyKey)}`)) return { delivered: 'already-in-outbox' };
  await appendFile(file, `${payload}\n`);
  return { delivered: 'outbox' };
}
