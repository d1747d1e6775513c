import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createApp, type ApiDeps } from '../../api/app';
import type { Role } from '../../api/auth';
import { signLocalToken } from '../../api/tokens';
import { devServerHarness, type DevServerHarness } from '../support/temporal';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface ApiUnderTest {
  harness: DevServerHarness;
  base: string;
  auditFile: string;
  logFile: string;
  /** A token for these roles: scoped to `team` when given, else to every team (the explicit all_teams claim). */
  token(roles: Role | Role[], sub?: string, team?: string): Promise<string>;
  call(method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<Response>;
  auditRecords(): Array<Record<string, unknown>>;
  logLines(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** The API on an ephemeral port, with a worker and client on the dev server, an audit file and a log file of its own. */
export async function startApi(
  options: Partial<Pick<ApiDeps, 'client' | 'rateLimit' | 'readRateLimit' | 'codec' | 'auth' | 'scope' | 'backdateWindowHours' | 'pages' | 'tracing'>> & { harness?: DevServerHarness } = {},
): Promise<ApiUnderTest> {
  const harness = options.harness ?? (await devServerHarness());
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const auditFile = join(dir, 'audit.log');
  const logFile = join(dir, 'app.log');
  const logger = pino({ level: 'info' }, pino.destination({ dest: logFile, sync: true }));
  const app = createApp({
    client: options.client ?? harness.client,
    taskQueue: harness.taskQueue,
    auth: options.auth ?? { mode: 'secret', secret: TEST_SECRET },
    audit: auditFile,
    logger,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.codec ? { codec: options.codec } : {}),
    ...(options.readRateLimit ? { readRateLimit: options.readRateLimit } : {}),
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.backdateWindowHours ? { backdateWindowHours: options.backdateWindowHours } : {}),
    ...(options.pages ? { pages: options.pages } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
  });
  const server: Server = app.listen(0, '127.0.0.1');
  // Longer than the client's keep-alive, so the server never closes a socket the client is about to reuse.
  server.keepAliveTimeout = 65_000;
  await new Promise((ready) => server.once('listening', ready));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const readJsonLines = (file: string) => {
    try {
      return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    } catch {
      return [];
    }
  };
  return {
    harness,
    base,
    auditFile,
    logFile,
    token: (roles, sub = 'USR-1', team) =>
      signLocalToken(TEST_SECRET, { sub, roles: Array.isArray(roles) ? roles : [roles], ...(team ? { teams: [team] } : { allTeams: true }) }),
    call: (method, path, callOptions = {}) =>
      fetch(`${base}${path}`, {
        method,
        headers: {
          ...(callOptions.body !== undefined || callOptions.rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(callOptions.token ? { authorization: `Bearer ${callOptions.token}` } : {}),
          ...callOptions.headers,
        },
        ...(callOptions.rawBody !== undefined ? { body: callOptions.rawBody } : callOptions.body !== undefined ? { body: JSON.stringify(callOptions.body) } : {}),
      }),
    auditRecords: () => readJsonLines(auditFile),
    logLines: () => readJsonLines(logFile),
    async stop() {
      await new Promise((done) => server.close(done));
      if (!options.harness) await harness.stop();
    },
  };
}

let sequence = 0;
/** A referral id unique to this run (opaque: letters, digits, '-'). */
export function newReferralId(): string {
  sequence += 1;
  return `REF-${Date.now().toString(36).toUpperCase()}-${process.pid}-${sequence}`;
}

/**
 * Received an hour before this test run started: recent enough that no deadline has passed
 * (a fixed date would escalate once a working day had gone by), fixed for the whole run so
 * that a retried body is the same body.
 */
const RECEIVED_AT = new Date(Date.now() - 3_600_000).toISOString();
const CONSENT_AT = new Date(Date.now() - 1_800_000).toISOString();

export function referralBody(referralId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    referralId,
    receivedAt: RECEIVED_AT,
    referrerType: 'education',
    childProtectionConcern: false,
    children: [{ childRef: 'C-1' }],
    ...extra,
  };
}

export function consentEvent(eventId: string): Record<string, unknown> {
  return { type: 'consent-recorded', eventId, occurredAt: CONSENT_AT, actor: 'SW-1', given: true };
}

/** Polls until `check` returns a value (visibility is eventually consistent). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
