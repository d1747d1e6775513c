/**
 * `npm run schemathesis`: generated requests against the real stack, a run per role.
 *
 * Starts a Temporal dev server (in memory), the worker and the API (rate limit raised through
 * API_RATE_LIMIT_MAX, a JWT secret made up for the run), creates the case the OpenAPI
 * document's examples name (api/openapi.ts EXAMPLE_CASE: a referral, its duty decision, the
 * child's assessment with its allocation prompt open) so that generated requests reach a real
 * case and not only 404s, then runs `schemathesis run` against /v1/openapi.json once per role
 * (system, social_worker, manager, operations) with a token of that role and a fixed seed.
 * The checks and the statuses a valid request may get are in tools/schemathesis.toml: any 5xx,
 * any status code the document does not list, any schema-valid request refused (400, 429, 5xx)
 * or an undeclared method not answered 405 fails the run.
 *
 * schemathesis comes from PyPI, pinned in tools/requirements-schemathesis.txt, installed into
 * tools/.venv (python3 -m venv) on first use and whenever the pins change.
 *
 * Settings: SCHEMATHESIS_SEED (default 20261123), SCHEMATHESIS_MAX_EXAMPLES (per operation and
 * phase, default 10), SCHEMATHESIS_ROLES (comma-separated, default all four),
 * SCHEMATHESIS_VENV (default tools/.venv).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { appDepsFromConfig, createApp } from '../api/app';
import { roles, type Role } from '../api/auth';
import { loadApiConfig } from '../api/config';
import { EXAMPLE_CASE } from '../api/openapi';
import { signLocalToken } from '../api/tokens';
import { AesGcmPayloadCodec, parsePayloadKeys } from '../common/codec';
import { connectClient, connectWorkerConnection } from '../common/temporal';
import { createWorker } from '../worker/worker';
import { log, startDevServer } from './temporal';

const ROOT = resolve(__dirname, '..');
const VENV = process.env.SCHEMATHESIS_VENV ?? join(ROOT, 'tools', '.venv');
const REQUIREMENTS = join(ROOT, 'tools', 'requirements-schemathesis.txt');
const CONFIG = join(ROOT, 'tools', 'schemathesis.toml');
const SEED = process.env.SCHEMATHESIS_SEED ?? '20261123';
const MAX_EXAMPLES = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '10';
const ROLES = (process.env.SCHEMATHESIS_ROLES ?? roles.join(',')).split(',').filter(Boolean) as Role[];
const TASK_QUEUE = 'schemathesis';
/** The opaque staff id of each role's token. */
const SUBJECTS: Record<Role, string> = { system: 'SYS-1', social_worker: 'SW-1', manager: 'MGR-1', operations: 'OPS-1' };

function must(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
}

/** The pinned schemathesis in its own venv, installed again when the pins change. */
function ensureSchemathesis(): string {
  const bin = join(VENV, 'bin', 'schemathesis');
  const stamp = join(VENV, '.requirements-installed');
  const wanted = readFileSync(REQUIREMENTS, 'utf8');
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return bin;
  log(`installing schemathesis from ${REQUIREMENTS} into ${VENV}`);
  must('python3', ['-m', 'venv', VENV]);
  must(join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS]);
  writeFileSync(stamp, wanted);
  return bin;
}

/** A token of one role for every team (the explicit all_teams claim). */
async function tokenFor(secret: string, role: Role): Promise<string> {
  return signLocalToken(secret, { sub: SUBJECTS[role], roles: [role], allTeams: true }, { expiresIn: '2h' });
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

/** The case the document's examples name, created through the API as a case system and a manager would. */
async function createExampleCase(base: string, tokens: Record<Role, string>): Promise<void> {
  const call = async (method: string, path: string, role: Role, body?: unknown) => {
    const answer = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens[role]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: answer.status, body: (await answer.json().catch(() => undefined)) as Record<string, unknown> | undefined };
  };
  const expect = (what: string, answer: { status: number; body?: unknown }, ...statuses: number[]) => {
    if (!statuses.includes(answer.status)) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  const receivedAt = new Date(Date.now() - 3_600_000).toISOString();
  const referral = { referralId: EXAMPLE_CASE.referralId, receivedAt, referrerType: 'education', childProtectionConcern: false, team: 'T1', children: [{ childRef: EXAMPLE_CASE.childRef }] };
  expect('the example referral', await call('POST', '/v1/referrals', 'system', referral), 201);
  const consent = { type: 'consent-recorded', eventId: 'EV-4001-1', occurredAt: new Date(Date.now() - 1_800_000).toISOString(), actor: 'SW-1', given: true };
  expect('its consent', await call('POST', `/v1/referrals/${EXAMPLE_CASE.referralId}/events`, 'system', consent), 202);
  const dutyPrompt = `referral-${EXAMPLE_CASE.referralId}~duty-decision-1`;
  await until('the duty decision prompt', async () => ((await call('GET', `/v1/referrals/${EXAMPLE_CASE.referralId}`, 'manager')).status === 200 ? true : undefined));
  expect('the duty decision', await call('POST', `/v1/prompts/${dutyPrompt}/decision`, 'manager', { decision: 'single-assessment', rationale: 'needs assessing' }), 200);
  await until('the assessment and its allocation prompt', async () => {
    const state = await call('GET', `/v1/assessments/${EXAMPLE_CASE.assessmentId}`, 'manager');
    return state.status === 200 && JSON.stringify(state.body).includes(EXAMPLE_CASE.promptId) ? true : undefined;
  });
  // A few more referrals, so that listings and the report have rows.
  for (let i = 2; i <= 4; i += 1) {
    expect('a referral', await call('POST', '/v1/referrals', 'system', { ...referral, referralId: `REF-400${i}`, childProtectionConcern: i === 3 }), 201);
  }
}

interface RoleRun {
  role: Role;
  exitCode: number;
  requests: number;
  byStatus: Record<string, number>;
  seconds: number;
}

function runSchemathesis(bin: string, base: string, role: Role, token: string, reportDir: string): Promise<{ exitCode: number; toolCrashedOnly: boolean }> {
  const args = [
    '--config-file',
    CONFIG,
    'run',
    `${base}/v1/openapi.json`,
    '--url',
    base,
    '--header',
    `Authorization: Bearer ${token}`,
    '--seed',
    SEED,
    '--max-examples',
    MAX_EXAMPLES,
    '--phases',
    'examples,coverage,fuzzing',
    '--checks',
    'not_a_server_error,status_code_conformance,positive_data_acceptance,unsupported_method',
    '--workers',
    '2',
    '--request-timeout',
    '30',
    '--no-color',
    '--report',
    'junit',
    '--report-dir',
    join(reportDir, role),
  ];
  return new Promise((done) => {
    const child = spawn(bin, args, { stdio: ['inherit', 'pipe', 'pipe'], env: { ...process.env, SCHEMATHESIS_HOOKS: '' } });
    let output = '';
    const keep = (into: NodeJS.WriteStream) => (chunk: Buffer) => {
      into.write(chunk);
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep(process.stdout));
    child.stderr.on('data', keep(process.stderr));
    child.on('exit', (code) => done({ exitCode: code ?? 1, toolCrashedOnly: toolCrashedOnly(output) }));
  });
}

/**
 * A run that failed only because the tool itself crashed, with no check failing: CPython
 * 3.11's `ast.parse` now and then raises "AST constructor recursion depth mismatch" inside
 * hypothesis while it names a strategy (seen once in CI; the same seed passed on the rerun).
 * Such a run is repeated once; a run with any failed check never is.
 */
function toolCrashedOnly(output: string): boolean {
  return output.includes('AST constructor recursion depth mismatch') && !/=+ FAILURES =+/.test(output);
}

async function main(): Promise<void> {
  const started = Date.now();
  const bin = ensureSchemathesis();
  must(bin, ['--version']);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'schemathesis-'));
  const secret = randomBytes(32).toString('base64url');
  const codec = new AesGcmPayloadCodec(parsePayloadKeys(`schemathesis:${randomBytes(32).toString('base64')}`));

  const devServer = await startDevServer({});
  const workerConnection = await connectWorkerConnection(devServer.address);
  const worker = await createWorker({ connection: workerConnection, namespace: 'default', taskQueue: TASK_QUEUE, codec, deps: { outbound: { outboxDir: join(dir, 'outbox') } } });
  const workerRun = worker.run();
  const client = await connectClient(devServer.address, 'default', codec);
  // The API as `npm start` builds it from its configuration, with the rate limit raised for the run.
  const apiConfig = loadApiConfig({ ...process.env, DATA_DIR: dir, API_JWT_SECRET: secret, API_RATE_LIMIT_MAX: '1000000', API_READ_RATE_LIMIT_MAX: '1000000', API_ADDRESS_RATE_LIMIT_MAX: '1000000', LOG_LEVEL: 'error' });
  const app = createApp(appDepsFromConfig(client, TASK_QUEUE, apiConfig));

  // Every request and its status, per role, counted in front of the API.
  let current: RoleRun | undefined;
  const outer = express();
  outer.use((_req, res, next) => {
    const run = current;
    res.on('finish', () => {
      if (!run) return;
      run.requests += 1;
      run.byStatus[res.statusCode] = (run.byStatus[res.statusCode] ?? 0) + 1;
    });
    next();
  });
  outer.use(app);
  const server: Server = await new Promise((ready) => {
    const listening = outer.listen(0, '127.0.0.1', () => ready(listening));
  });
  server.keepAliveTimeout = 65_000;
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const runs: RoleRun[] = [];
  let failed = false;
  try {
    const tokens = Object.fromEntries(await Promise.all(roles.map(async (role) => [role, await tokenFor(secret, role)]))) as Record<Role, string>;
    await createExampleCase(base, tokens);
    log(`the example case ${EXAMPLE_CASE.assessmentId} is open; running schemathesis (seed ${SEED}, ${MAX_EXAMPLES} examples) for ${ROLES.join(', ')}`);
    for (const role of ROLES) {
      const run: RoleRun = { role, exitCode: 0, requests: 0, byStatus: {}, seconds: 0 };
      const at = Date.now();
      current = run;
      log(`schemathesis as ${role} (${SUBJECTS[role]})`);
      let attempt = await runSchemathesis(bin, base, role, tokens[role], join(dir, 'reports'));
      if (attempt.exitCode !== 0 && attempt.toolCrashedOnly) {
        log(`schemathesis as ${role}: the tool crashed (CPython's AST recursion depth mismatch) with no check failed; running it once more`);
        run.requests = 0;
        run.byStatus = {};
        attempt = await runSchemathesis(bin, base, role, tokens[role], join(dir, 'reports'));
      }
      run.exitCode = attempt.exitCode;
      current = undefined;
      run.seconds = Math.round((Date.now() - at) / 1000);
      runs.push(run);
      if (run.exitCode !== 0) failed = true;
    }
  } finally {
    await new Promise((done) => server.close(done));
    worker.shutdown();
    await workerRun;
    await client.connection.close();
    await workerConnection.close();
    await devServer.stop();
  }

  console.log('\nrole            exit  requests  seconds  statuses');
  for (const run of runs) {
    const statuses = Object.entries(run.byStatus)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([status, count]) => `${status}:${count}`)
      .join(' ');
    console.log(`${run.role.padEnd(16)}${String(run.exitCode).padEnd(6)}${String(run.requests).padEnd(10)}${String(run.seconds).padEnd(9)}${statuses}`);
  }
  const serverErrors = runs.reduce((sum, run) => sum + Object.entries(run.byStatus).filter(([status]) => Number(status) >= 500).reduce((s, [, n]) => s + n, 0), 0);
  console.log(`server errors (5xx) ${serverErrors}; wall time ${Math.round((Date.now() - started) / 1000)} s`);
  if (failed || serverErrors > 0 || runs.length !== ROLES.length) {
    console.log(`FAILED: the reports (JUnit) are in ${join(dir, 'reports')}`);
    process.exit(1);
  }
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
