import type { Request } from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCodecServer, embeddedCodecEndpoint, isEmbeddedWebUiRequest } from '../../api/codec-server';
import { loadConfig } from '../../common/config';
import { startDevServer, type RunningServer } from '../../scripts/temporal';
import { rawConnection, rawHistory } from '../data-protection/raw';
import { TEST_ONLY_PAYLOAD_KEYS, testCodec } from '../support/payload-keys';
import { devServerHarness, type DevServerHarness } from '../support/temporal';
import { newReferralId, referralBody, startApi, type ApiUnderTest } from './support';

/**
 * Issue 16 item 1: the Web UI `npm start` prints decodes payloads through the API's codec
 * route. The dev server's UI holds no token, so on the embedded default its requests pass
 * over loopback from its own origin; in production the same requests are refused, and only
 * an operations token (with all_teams), as the UI passes it after sign-in, is let through.
 */
const UI_ORIGIN = 'http://127.0.0.1:8233';
/** What the Web UI sends with every codec request (temporalio/ui, data-encoder.ts). */
const UI_HEADERS = { origin: UI_ORIGIN, 'content-type': 'application/json', 'x-namespace': 'default' };
/** After an OIDC sign-in (production) it adds the ID token; the codec does not read it. */
const SIGNED_IN_UI_HEADERS = { ...UI_HEADERS, 'authorization-extras': 'an-id-token' };

let harness: DevServerHarness;
let embedded: ApiUnderTest;
let production: ApiUnderTest;
let encryptedInput: { payloads: Array<{ metadata: Record<string, string>; data: string }> };
let referralId: string;

beforeAll(async () => {
  harness = await devServerHarness();
  // Configured as scripts/start.ts configures them, from the environment each mode has.
  const embeddedConfig = loadConfig({});
  const productionConfig = loadConfig({ NODE_ENV: 'production', PAYLOAD_KEYS: TEST_ONLY_PAYLOAD_KEYS });
  expect([embeddedConfig.production, productionConfig.production]).toEqual([false, true]);
  embedded = await startApi({ harness, codec: createCodecServer({ codec: testCodec(), allowedOrigin: UI_ORIGIN, production: embeddedConfig.production, embeddedWebUi: true }) });
  production = await startApi({ harness, codec: createCodecServer({ codec: testCodec(), allowedOrigin: UI_ORIGIN, production: productionConfig.production, embeddedWebUi: true }) });

  // A real case's start input, as the server stores it (encrypted) and the UI receives it.
  referralId = newReferralId();
  const system = await embedded.token('system', 'SYS-1');
  expect((await embedded.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team: 'T1' }) })).status).toBe(201);
  // Without the codec: what the Temporal server hands the Web UI.
  const connection = await rawConnection(inject('devServerAddress'));
  const events = await rawHistory(connection, 'default', `referral-${referralId}`).finally(() => connection.close());
  const payloads = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  expect(payloads.length).toBe(1);
  encryptedInput = {
    payloads: payloads.map((payload) => ({
      metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
      data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
    })),
  };
  expect(Buffer.from(encryptedInput.payloads[0]!.data, 'base64').toString('utf8')).not.toContain(referralId);
});
afterAll(async () => {
  await embedded?.stop();
  await production?.stop();
  await harness?.stop();
});

function decodedText(body: { payloads: Array<{ data: string }> }): string {
  return body.payloads.map((payload) => Buffer.from(payload.data, 'base64').toString('utf8')).join('\n');
}

async function preflight(api: ApiUnderTest): Promise<Response> {
  return api.call('OPTIONS', '/codec/decode', { headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
}

describe('the codec route as the Web UI calls it', () => {
  it('on the embedded default: the preflight, then POST /decode from the UI over loopback answers the decoded payloads, audited', async () => {
    const allowed = await preflight(embedded);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/content-type.*x-namespace/);

    const before = embedded.auditRecords().length;
    const answer = await embedded.call('POST', '/codec/decode', { headers: UI_HEADERS, rawBody: JSON.stringify(encryptedInput) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const decoded = (await answer.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(decoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(decodedText(decoded))).toMatchObject({ referralId, children: [{ childRef: 'C-1' }] });
    expect(embedded.auditRecords().slice(before)).toEqual([expect.objectContaining({ who: 'LOCAL-WEB-UI', roles: ['operations'], action: 'codec', status: 200 })]);
  });

  it('on the embedded default: anything but the UI over loopback still needs an operations token', async () => {
    const body = JSON.stringify(encryptedInput);
    // Another browser origin: refused before anything else.
    expect((await embedded.call('POST', '/codec/decode', { headers: { ...UI_HEADERS, origin: 'http://127.0.0.1:9999' }, rawBody: body })).status).toBe(403);
    // No Origin (a script, the CLI): the token decides.
    expect((await embedded.call('POST', '/codec/decode', { headers: { 'content-type': 'application/json' }, rawBody: body })).status).toBe(401);
    // Through a proxy on this machine: the caller may be anywhere.
    expect((await embedded.call('POST', '/codec/decode', { headers: { ...UI_HEADERS, 'x-forwarded-for': '203.0.113.7' }, rawBody: body })).status).toBe(401);
    // A token is judged as a token, even from the UI's origin.
    const manager = await embedded.token('manager', 'MGR-1');
    expect((await embedded.call('POST', '/codec/decode', { headers: UI_HEADERS, token: manager, rawBody: body })).status).toBe(403);
  });

  it('in production: the same requests are refused without a valid operations token with all_teams; with one they are decoded', async () => {
    const allowed = await preflight(production);
    expect(allowed.status).toBe(204); // a preflight carries no token in any mode
    // After an OIDC sign-in the UI sends the access token and the ID token (Authorization-Extras).
    const allowedHeaders = allowed.headers.get('access-control-allow-headers')?.split(/,\s*/) ?? [];
    expect(allowedHeaders).toEqual(expect.arrayContaining(['content-type', 'x-namespace', 'authorization', 'authorization-extras']));
    const body = JSON.stringify(encryptedInput);
    const anonymous = await production.call('POST', '/codec/decode', { headers: UI_HEADERS, rawBody: body });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain(referralId);
    const operations = await production.token('operations', 'OPS-1');
    const forged = await production.call('POST', '/codec/decode', { headers: UI_HEADERS, token: `${operations}x`, rawBody: body });
    expect(forged.status).toBe(401);
    const manager = await production.call('POST', '/codec/decode', { headers: UI_HEADERS, token: await production.token('manager', 'MGR-1'), rawBody: body });
    expect(manager.status).toBe(403);
    const oneTeam = await production.call('POST', '/codec/decode', { headers: UI_HEADERS, token: await production.token('operations', 'OPS-2', 'T1'), rawBody: body });
    expect(oneTeam.status).toBe(403);

    const signedIn = await production.call('POST', '/codec/decode', { headers: SIGNED_IN_UI_HEADERS, token: operations, rawBody: body });
    expect(signedIn.status).toBe(200);
    expect(JSON.parse(decodedText((await signedIn.json()) as { payloads: Array<{ data: string }> }))).toMatchObject({ referralId });
    expect(production.auditRecords().at(-1)).toMatchObject({ who: 'OPS-1', action: 'codec', status: 200 });
  });

  it('the loopback access needs every condition: no token, the UI origin, a loopback peer, no forwarding header', () => {
    const access = { origin: UI_ORIGIN };
    const request = (headers: Record<string, string>, remoteAddress: string) =>
      ({ get: (name: string) => headers[name.toLowerCase()], socket: { remoteAddress } }) as unknown as Request;
    expect(isEmbeddedWebUiRequest(request({ origin: UI_ORIGIN }, '127.0.0.1'), access)).toBe(true);
    expect(isEmbeddedWebUiRequest(request({ origin: UI_ORIGIN }, '::ffff:127.0.0.1'), access)).toBe(true);
    expect(isEmbeddedWebUiRequest(request({ origin: UI_ORIGIN }, '::1'), access)).toBe(true);
    expect(isEmbeddedWebUiRequest(request({ origin: UI_ORIGIN }, '192.168.1.20'), access)).toBe(false);
    expect(isEmbeddedWebUiRequest(request({ origin: UI_ORIGIN }, '::ffff:10.0.0.3'), access)).toBe(false);
    expect(isEmbeddedWebUiRequest(request({ origin: 'http://localhost:8233' }, '127.0.0.1'), access)).toBe(false);
    expect(isEmbeddedWebUiRequest(request({}, '127.0.0.1'), access)).toBe(false);
    expect(isEmbeddedWebUiRequest(request({ origin: UI_ORIGIN, forwarded: 'for=203.0.113.7' }, '127.0.0.1'), access)).toBe(false);
    expect(isEmbeddedWebUiRequest(request({ origin: UI_ORIGIN, authorization: 'Bearer x' }, '127.0.0.1'), access)).toBe(false);
    // Production never grants it, whoever asks.
    expect(createCodecServer({ codec: testCodec(), allowedOrigin: UI_ORIGIN, production: true, embeddedWebUi: true }).embeddedWebUi).toBeUndefined();
  });
});

describe('the dev server npm start runs', () => {
  let server: RunningServer | undefined;
  afterAll(async () => server?.stop());

  it('is started with its Web UI pointed at the API codec route, on loopback; production and a non-loopback API get none', async () => {
    const endpoint = embeddedCodecEndpoint(loadConfig({}));
    expect(endpoint).toBe('http://127.0.0.1:3000/codec');
    expect(embeddedCodecEndpoint(loadConfig({ API_HOST: '0.0.0.0', API_PORT: '3100' }))).toBe('http://127.0.0.1:3100/codec');
    expect(embeddedCodecEndpoint(loadConfig({ NODE_ENV: 'production', PAYLOAD_KEYS: TEST_ONLY_PAYLOAD_KEYS }))).toEqual({ why: expect.stringContaining('production') });
    expect(embeddedCodecEndpoint(loadConfig({ API_HOST: '10.1.2.3' }))).toEqual({ why: expect.stringContaining('loopback') });

    // The project's own CLI build takes the setting, and the UI hands it to the browser.
    server = await startDevServer({ ui: true, uiCodecEndpoint: endpoint as string });
    const settings = (await (await fetch(`${server.uiUrl}/api/v1/settings`)).json()) as { Codec: { Endpoint: string; PassAccessToken: boolean } };
    expect(settings.Codec).toMatchObject({ Endpoint: 'http://127.0.0.1:3000/codec', PassAccessToken: false });
  });
});
