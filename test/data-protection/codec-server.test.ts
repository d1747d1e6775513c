import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codecCors, createCodecRouter } from '../../api/codec-server';
import { AesGcmPayloadCodec, parsePayloadKeys } from '../../common/codec';
import { TEST_ONLY_KEY_1, TEST_ONLY_KEY_2, testCodec } from '../support/payload-keys';

const MARKER = 'CANARY-7f3a';
const UI_ORIGIN = 'http://127.0.0.1:8233';

type JsonPayload = { metadata: Record<string, string>; data: string };

let server: Server;
let base: string;
beforeAll(async () => {
  const app = express();
  // Mounted as the API will mount it (behind its auth), at /codec.
  app.use('/codec', createCodecRouter({ codec: testCodec(), allowedOrigin: UI_ORIGIN }));
  // As in production: a codec that refuses unencrypted payloads.
  app.use('/production-codec', createCodecRouter({ codec: new AesGcmPayloadCodec(parsePayloadKeys(TEST_ONLY_KEY_1), { refusePlaintext: true }), allowedOrigin: UI_ORIGIN }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((ready) => server.once('listening', ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/codec`;
});
afterAll(async () => {
  await new Promise((done) => server?.close(done));
});

const toJson = (value: unknown): JsonPayload => {
  const payload = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, bytes]) => [key, Buffer.from(bytes!).toString('base64')])),
    data: Buffer.from(payload.data!).toString('base64'),
  };
};
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('codec server (Temporal Web UI format)', () => {
  it('round-trips payloads: encode, then decode, over HTTP', async () => {
    const values = [{ childRef: 'C-1', comments: MARKER }, MARKER, 42];
    const encodedResponse = await post('/encode', { payloads: values.map(toJson) });
    expect(encodedResponse.status).toBe(200);
    const encoded = (await encodedResponse.json()) as { payloads: JsonPayload[] };
    expect(encoded.payloads).toHaveLength(3);
    for (const payload of encoded.payloads) {
      expect(Buffer.from(payload.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
      expect(Buffer.from(payload.metadata['encryption-key-id']!, 'base64').toString()).toBe('test-only-k1');
      expect(Buffer.from(payload.data, 'base64').includes(MARKER)).toBe(false);
    }

    const decodedResponse = await post('/decode', encoded);
    expect(decodedResponse.status).toBe(200);
    expect(decodedResponse.headers.get('cache-control')).toBe('no-store');
    const decoded = (await decodedResponse.json()) as { payloads: JsonPayload[] };
    expect(decoded.payloads).toEqual(values.map(toJson));
  });

  it('answers the configured UI origin with CORS headers, and its OPTIONS preflight', async () => {
    const preflight = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/content-type.*x-namespace/);
    expect(preflight.headers.get('vary')).toMatch(/Origin/);

    const decoded = await post('/decode', { payloads: [toJson('x')] }, { origin: UI_ORIGIN });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  });

  it('gives no CORS headers to any other origin and refuses its requests', async () => {
    for (const origin of ['http://evil.example', 'http://127.0.0.1:8080', `${UI_ORIGIN}.evil.example`]) {
      const preflight = await fetch(`${base}/decode`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.status).toBe(403);
      const request = await post('/decode', { payloads: [toJson('x')] }, { origin });
      expect(request.status).toBe(403);
      expect(request.headers.get('access-control-allow-origin')).toBeNull();
    }
    // Without an Origin (the CLI, server to server) there is no CORS header either.
    const plain = await post('/decode', { payloads: [toJson('x')] });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets the preflight through ahead of the authentication in front of it (codecCors first)', async () => {
    // Mounted as the API should: CORS, then its auth (here a stand-in that wants a bearer token), then the router.
    const app = express();
    app.use(
      '/codec',
      codecCors(UI_ORIGIN),
      (req, res, next) => (req.get('authorization') === 'Bearer test-only-token' ? next() : void res.status(401).json({ error: 'unauthenticated' })),
      createCodecRouter({ codec: testCodec(), allowedOrigin: UI_ORIGIN }),
    );
    const guarded = app.listen(0, '127.0.0.1');
    await new Promise((ready) => guarded.once('listening', ready));
    const url = `http://127.0.0.1:${(guarded.address() as AddressInfo).port}/codec/decode`;
    try {
      const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
      const body = JSON.stringify({ payloads: [toJson('x')] });
      const anonymous = await fetch(url, { method: 'POST', headers: { origin: UI_ORIGIN, 'content-type': 'application/json' }, body });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      const signedIn = await fetch(url, { method: 'POST', headers: { origin: UI_ORIGIN, 'content-type': 'application/json', authorization: 'Bearer test-only-token' }, body });
      expect(signedIn.status).toBe(200);
      const foreign = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
      expect(foreign.status).toBe(403);
    } finally {
      await new Promise((done) => guarded.close(done));
    }
  });

  it('answers a malformed body with 400 and a clear message', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{not json', /not valid JSON/],
      [{}, /payloads/],
      [{ payloads: 'x' }, /payloads/],
      [{ payloads: [{ metadata: { encoding: 'not base64!' }, data: '' }] }, /payloads\.0\.metadata\.encoding: must be base64/],
      [{ payloads: [{ data: 12 }] }, /payloads\.0\.data/],
    ];
    for (const [body, message] of cases) {
      const response = await post('/decode', body);
      expect(response.status).toBe(400);
      const answer = (await response.json()) as { error: string; message: string };
      expect(answer.error).toBe('invalid-request');
      expect(answer.message).toMatch(message);
    }
  });

  it('says which key is missing when a payload cannot be decrypted', async () => {
    const [sealed] = await testCodec(TEST_ONLY_KEY_2).encode([defaultPayloadConverter.toPayload(MARKER)]);
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(sealed!.metadata!).map(([key, bytes]) => [key, Buffer.from(bytes!).toString('base64')])),
          data: Buffer.from(sealed!.data!).toString('base64'),
        },
      ],
    };
    const response = await post('/decode', body);
    expect(response.status).toBe(422);
    const answer = (await response.json()) as { message: string };
    expect(answer.message).toContain("key id 'test-only-k2'");
    expect(JSON.stringify(answer)).not.toContain(MARKER);
    // The payload's own key id only: never the ids the server holds.
    expect(answer.message).not.toContain('test-only-k1');
  });

  it('in production refuses to decode an unencrypted payload', async () => {
    const response = await fetch(`${base.replace(/\/codec$/, '/production-codec')}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [toJson(MARKER)] }),
    });
    expect(response.status).toBe(422);
    const answer = (await response.json()) as { error: string; message: string };
    expect(answer.error).toBe('cannot-decode');
    expect(answer.message).toMatch(/not encrypted/);
    expect(JSON.stringify(answer)).not.toContain(MARKER);
    expect(answer.message).not.toContain('test-only-k1');
  });
});
