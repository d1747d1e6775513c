import { createHmac } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deliver, outboundFromConfig, SIGNATURE_HEADER, signWebhook, verifyWebhookSignature } from '../../activities/outbound';
import { loadConfig } from '../../common/config';
import { startReceiver } from '../../scripts/chaos/receiver';
import { TEST_ONLY_KEY_1 } from '../support/payload-keys';
import { TEST_WEBHOOK_SECRET, WebhookReceiver } from '../support/webhook-receiver';

/** Outbound webhooks and the local outbox (item 6, and the redirect part of item 10). */
const SECRET = 'a-webhook-secret-for-tests';
const BODY = '{"channel":"notification","idempotencyKey":"k1","rule":"R-12"}';
const NOW = 1_790_000_000;

type Hit = { path: string; headers: IncomingHttpHeaders; body: string };
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

/** A loopback server that records requests and answers with `answer(path)`. */
async function serve(answer: (path: string) => { status: number; headers?: Record<string, string> }): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const { status, headers } = answer(req.url ?? '');
      res.writeHead(status, headers).end();
    });
  });
  servers.push(server);
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

const message = { channel: 'notification' as const, idempotencyKey: 'wf/run/1', body: { recipient: 'police', rule: 'R-12' } };

describe('webhook signature: t=<unix seconds>,v1=<HMAC-SHA256 of "t.body">', () => {
  it('signs the timestamp with the body, as a receiver computes it independently', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    expect(signWebhook(SECRET, BODY, NOW)).toBe(`t=${NOW},v1=${expected}`);
  });

  it('verifies within 5 minutes either way, and refuses a replay outside them', () => {
    const header = signWebhook(SECRET, BODY, NOW);
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW)).toEqual({ ok: true, timestamp: NOW });
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW + 300).ok).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW - 300).ok).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW + 301)).toMatchObject({ ok: false, reason: expect.stringMatching(/more than 300 s from now/) });
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW - 301).ok).toBe(false);
  });

  it('refuses another secret, an altered body, a timestamp changed without re-signing, and malformed headers', () => {
    const header = signWebhook(SECRET, BODY, NOW);
    expect(verifyWebhookSignature('another-secret-entirely', header, BODY, NOW)).toMatchObject({ ok: false, reason: 'no v1 signature matches' });
    expect(verifyWebhookSignature(SECRET, header, BODY.replace('R-12', 'R-13'), NOW).ok).toBe(false);
    expect(verifyWebhookSignature(SECRET, header.replace(`t=${NOW}`, `t=${NOW + 1}`), BODY, NOW).ok).toBe(false);
    for (const bad of [undefined, '', `v1=${'0'.repeat(64)}`, `t=${NOW}`, `t=${NOW},t=${NOW},v1=00`, `t=soon,v1=00`]) {
      expect(verifyWebhookSignature(SECRET, bad, BODY, NOW).ok).toBe(false);
    }
    // The body alone (the old scheme) no longer verifies.
    const bodyOnly = createHmac('sha256', SECRET).update(BODY).digest('hex');
    expect(verifyWebhookSignature(SECRET, `t=${NOW},v1=${bodyOnly}`, BODY, NOW).ok).toBe(false);
  });

  it('accepts any one of several v1 signatures (a secret being rotated)', () => {
    const header = `${signWebhook(SECRET, BODY, NOW)},v1=${createHmac('sha256', 'the-old-secret').update(`${NOW}.${BODY}`).digest('hex')}`;
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW).ok).toBe(true);
    expect(verifyWebhookSignature('the-old-secret', header, BODY, NOW).ok).toBe(true);
  });

  it('never signs with an empty secret', () => {
    expect(() => signWebhook('', BODY, NOW)).toThrow(/empty secret/);
    expect(verifyWebhookSignature('', signWebhook(SECRET, BODY, NOW), BODY, NOW).ok).toBe(false);
  });
});

describe('deliver()', () => {
  it('POSTs the body with a signature the receiver verifies against its clock, and the idempotency key', async () => {
    const receiver = await serve(() => ({ status: 204 }));
    const before = Math.floor(Date.now() / 1000);
    await expect(deliver({ webhookUrl: `${receiver.url}/outbound`, webhookSecret: SECRET, outboxDir: '/nonexistent' }, message)).resolves.toEqual({ delivered: 'webhook' });
    const [hit] = receiver.hits;
    expect(hit!.headers['idempotency-key']).toBe('wf/run/1');
    const check = verifyWebhookSignature(SECRET, String(hit!.headers[SIGNATURE_HEADER]), hit!.body);
    expect(check).toMatchObject({ ok: true });
    expect((check as { timestamp: number }).timestamp).toBeGreaterThanOrEqual(before);
    expect(hit!.headers['x-signature-sha256']).toBeUndefined();
  });

  it('refuses to send with an empty secret, before any request', async () => {
    const receiver = await serve(() => ({ status: 204 }));
    for (const webhookSecret of ['', undefined]) {
      await expect(deliver({ webhookUrl: receiver.url, webhookSecret, outboxDir: '/nonexistent' }, message)).rejects.toThrow(/unsigned webhook: OUTBOUND_WEBHOOK_SECRET is empty/);
    }
    expect(receiver.hits).toEqual([]);
  });

  it('does not follow a redirect: the signed body never reaches the other address', async () => {
    const elsewhere = await serve(() => ({ status: 204 }));
    for (const status of [301, 302, 307, 308]) {
      const redirecting = await serve(() => ({ status, headers: { location: `${elsewhere.url}/stolen` } }));
      await expect(deliver({ webhookUrl: `${redirecting.url}/outbound`, webhookSecret: SECRET, outboxDir: '/nonexistent' }, message)).rejects.toThrow();
      expect(redirecting.hits).toHaveLength(1);
    }
    expect(elsewhere.hits).toEqual([]);
  });

  it('without a URL writes the local outbox once per key, readable by its owner only', async () => {
    const outboxDir = join(mkdtempSync(join(tmpdir(), 'outbox-mode-')), 'outbox');
    await expect(deliver({ outboxDir }, message)).resolves.toEqual({ delivered: 'outbox' });
    await expect(deliver({ outboxDir }, message)).resolves.toEqual({ delivered: 'already-in-outbox' });
    const file = join(outboxDir, 'notification.jsonl');
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(outboxDir).mode & 0o777).toBe(0o700);
  });

  it('writes one line for attempts of one delivery in flight at once, and a line for each other key', async () => {
    const outboxDir = join(mkdtempSync(join(tmpdir(), 'outbox-race-')), 'outbox');
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => deliver({ outboxDir }, message)),
      ...Array.from({ length: 20 }, (_, index) => deliver({ outboxDir }, { ...message, idempotencyKey: `wf/run/${index + 2}` })),
    ]);
    expect(answers.slice(0, 5).filter((answer) => answer.delivered === 'outbox')).toHaveLength(1);
    const keys = readFileSync(join(outboxDir, 'notification.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { idempotencyKey: string }).idempotencyKey);
    expect(keys).toHaveLength(21);
    expect(new Set(keys).size).toBe(21);
  });

  it('sees what another process wrote to the outbox, and a file truncated or removed behind it', async () => {
    const outboxDir = join(mkdtempSync(join(tmpdir(), 'outbox-shared-')), 'outbox');
    const file = join(outboxDir, 'notification.jsonl');
    await expect(deliver({ outboxDir }, message)).resolves.toEqual({ delivered: 'outbox' });
    // Another worker appended a delivery this process has not seen.
    appendFileSync(file, `${JSON.stringify({ channel: 'notification', idempotencyKey: 'wf/other/1' })}\n`);
    await expect(deliver({ outboxDir }, { ...message, idempotencyKey: 'wf/other/1' })).resolves.toEqual({ delivered: 'already-in-outbox' });
    // An operator emptied the file: the delivery is written again rather than lost.
    writeFileSync(file, '');
    await expect(deliver({ outboxDir }, message)).resolves.toEqual({ delivered: 'outbox' });
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('outbound configuration in production', () => {
  const production = { DATA_DIR: mkdtempSync(join(tmpdir(), 'outbound-config-')), NODE_ENV: 'production', PAYLOAD_KEYS: TEST_ONLY_KEY_1 };

  it('refuses the local outbox (plaintext files of case references on the disk)', () => {
    expect(() => outboundFromConfig(loadConfig(production))).toThrow(/OUTBOUND_WEBHOOK_URL \(with OUTBOUND_WEBHOOK_SECRET\) is required when NODE_ENV=production/);
    // The API, which sends nothing, starts without the webhook and its secret.
    expect(loadConfig(production).production).toBe(true);
  });

  it('refuses a webhook that is not https', () => {
    expect(() => loadConfig({ ...production, OUTBOUND_WEBHOOK_URL: 'http://cases.example/outbound', OUTBOUND_WEBHOOK_SECRET: SECRET })).toThrow(
      /OUTBOUND_WEBHOOK_URL must be https:\/\/ when NODE_ENV=production/,
    );
    expect(loadConfig({ ...production, OUTBOUND_WEBHOOK_URL: 'https://cases.example/outbound', OUTBOUND_WEBHOOK_SECRET: SECRET }).OUTBOUND_WEBHOOK_URL).toBe('https://cases.example/outbound');
  });

  it('still takes http and the outbox outside production', () => {
    const { NODE_ENV: _, ...development } = production;
    expect(outboundFromConfig(loadConfig(development))).toMatchObject({ webhookUrl: undefined, outboxDir: join(development.DATA_DIR, 'outbox') });
    expect(loadConfig({ ...development, OUTBOUND_WEBHOOK_URL: 'http://127.0.0.1:9/outbound', OUTBOUND_WEBHOOK_SECRET: SECRET }).production).toBe(false);
  });
});

describe('the receivers that verify signatures', () => {
  it("the fault campaign's receiver accepts a delivery and refuses a stale or unsigned one", async () => {
    const receiver = await startReceiver(SECRET);
    try {
      await deliver({ webhookUrl: receiver.url, webhookSecret: SECRET, outboxDir: '/nonexistent' }, message);
      expect(receiver.accepted.map((delivery) => delivery.idempotencyKey)).toEqual(['wf/run/1']);
      const raw = JSON.stringify({ channel: 'notification', idempotencyKey: 'wf/run/2' });
      const stale = signWebhook(SECRET, raw, Math.floor(Date.now() / 1000) - 600);
      for (const headers of [{ [SIGNATURE_HEADER]: stale }, {}] as Array<Record<string, string>>) {
        const response = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'wf/run/2', ...headers }, body: raw });
        expect(response.status).toBe(401);
      }
      expect(receiver.invalid.map((invalid) => invalid.reason)).toEqual([expect.stringMatching(/more than 300 s from now/), expect.stringMatching(/no x-webhook-signature header/)]);
      expect(receiver.accepted).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it("the workflow tests' receiver records a signed delivery and refuses one signed with another secret", async () => {
    const receiver = await WebhookReceiver.start();
    try {
      await deliver({ webhookUrl: receiver.url, webhookSecret: TEST_WEBHOOK_SECRET, outboxDir: '/nonexistent' }, message);
      await expect(deliver({ webhookUrl: receiver.url, webhookSecret: 'not-the-secret-of-this-receiver', outboxDir: '/nonexistent' }, message)).rejects.toThrow(/webhook answered 401/);
      expect(receiver.deliveries.map((delivery) => delivery.idempotencyKey)).toEqual(['wf/run/1']);
      expect(receiver.invalid).toEqual(['no v1 signature matches']);
    } finally {
      await receiver.stop();
    }
  });
});
