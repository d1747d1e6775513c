/**
 * The outbound receiver the worker POSTs notifications and case records to
 * (OUTBOUND_WEBHOOK_URL): in this process, on 127.0.0.1. It checks each delivery's
 * signature (HMAC-SHA256 of `t.body`, `t` within 5 minutes: activities/outbound.ts) and
 * idempotency key, records every attempt, and during an outage
 * answers 500 without keeping anything, as a case system that is down would.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../activities/outbound';
import type { AcceptedDelivery } from './plan';

export interface RefusedAttempt {
  idempotencyKey: string;
  at: number;
  why: 'outage' | 'bad-signature' | 'bad-request';
}

export interface Receiver {
  url: string;
  accepted: AcceptedDelivery[];
  refused: RefusedAttempt[];
  /** Deliveries whose signature or idempotency key did not check out. */
  invalid: Array<{ at: number; reason: string }>;
  setDown(down: boolean): void;
  isDown(): boolean;
  close(): Promise<void>;
}

const MAX_BODY = 1_000_000;

export async function startReceiver(secret: string): Promise<Receiver> {
  const accepted: AcceptedDelivery[] = [];
  const refused: RefusedAttempt[] = [];
  const invalid: Receiver['invalid'] = [];
  let down = false;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const at = Date.now();
      const raw = Buffer.concat(chunks).toString('utf8');
      const key = String(req.headers['idempotency-key'] ?? '');
      const answer = (status: number) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status < 300 }));
      };
      if (req.method !== 'POST' || size > MAX_BODY) {
        invalid.push({ at, reason: `${req.method} of ${size} bytes` });
        refused.push({ idempotencyKey: key, at, why: 'bad-request' });
        return answer(400);
      }
      if (down) {
        refused.push({ idempotencyKey: key, at, why: 'outage' });
        return answer(500);
      }
      const header = req.headers[SIGNATURE_HEADER];
      const signature = verifyWebhookSignature(secret, typeof header === 'string' ? header : undefined, raw, Math.floor(at / 1000));
      if (!signature.ok) {
        invalid.push({ at, reason: `bad signature: ${signature.reason} (key ${key || 'none'})` });
        refused.push({ idempotencyKey: key, at, why: 'bad-signature' });
        return answer(401);
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        invalid.push({ at, reason: `body is not JSON (key ${key || 'none'})` });
        refused.push({ idempotencyKey: key, at, why: 'bad-request' });
        return answer(400);
      }
      if (!key || body.idempotencyKey !== key) {
        invalid.push({ at, reason: `idempotency-key header ${key || 'missing'} does not match the body's ${String(body.idempotencyKey)}` });
        refused.push({ idempotencyKey: key, at, why: 'bad-request' });
        return answer(400);
      }
      accepted.push({ idempotencyKey: key, raw, body, at });
      return answer(200);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ready());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/outbound`,
    accepted,
    refused,
    invalid,
    setDown: (value) => {
      down = value;
    },
    isDown: () => down,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
