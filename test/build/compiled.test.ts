import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signLocalToken } from '../../api/tokens';
import { freePort } from '../../scripts/temporal';
import { build, runtimeAssets } from '../../scripts/build';
import { assertBundleEncodesFailures } from '../../worker/worker';
import { leftTaskQueue } from '../support/leftovers';
import { TEST_ONLY_PAYLOAD_KEYS } from '../support/payload-keys';

/**
 * `npm run build` (scripts/build.ts) into a temporary directory laid out as the Docker image
 * is (node_modules beside the output), then the compiled worker and API run under plain
 * node, no tsx, against the dev server: a referral goes in through the API and its workflow
 * answers from the compiled worker running the prebuilt bundle.
 */
const repoRoot = resolve(__dirname, '..', '..');
let root: string;
let out: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'assessment-build-'));
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  out = (await build({ outDir: join(root, 'dist'), log: () => undefined })).outDir;
}, 240_000);

afterAll(async () => {
  await Promise.all(children.map(stop));
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Plain node: no tsx loader, nothing of the test process's configuration. */
function nodeEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...extra };
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('the compiled build', () => {
  it('emits JavaScript for the runtime code, the files it reads at run time and a workflow bundle with the failure converter and the shared modules', async () => {
    for (const main of ['api/main.js', 'worker/main.js', 'activities/index.js', 'common/config.js', 'domain/events.js', 'workflows/index.js']) {
      expect(existsSync(join(out, main)), main).toBe(true);
    }
    const emitted = files(out);
    expect(emitted.filter((file) => file.endsWith('.ts'))).toEqual([]);
    // Tests and scripts stay out of the image.
    expect(existsSync(join(out, 'test'))).toBe(false);
    expect(existsSync(join(out, 'scripts'))).toBe(false);
    for (const asset of runtimeAssets) expect(existsSync(join(out, asset)), asset).toBe(true);
    expect(readdirSync(join(out, 'api/pages/views'))).toEqual(expect.arrayContaining(['layout.njk', 'sign-in.njk', 'inbox.njk']));
    expect(readdirSync(join(out, 'api/pages/assets'))).toEqual(expect.arrayContaining(['app.css']));

    const bundle = join(out, 'workflow-bundle.js');
    await assertBundleEncodesFailures({ codePath: bundle });
    const code = readFileSync(bundle, 'utf8');
    // The preload (workflows/shared-modules.ts) is in the bundle, under the module names it freezes.
    expect(code).toContain('preloadModules = function preloadModules()');
    expect(code).toContain('"./workflows/shared-modules.ts"');
    expect(code).toContain('"./domain/events.ts"');
    // The second bundle, for a worker whose traces are on, has the tracing interceptors; the default has none.
    expect(code).not.toContain('"./workflows/tracing-interceptors.ts"');
    expect(readFileSync(join(out, 'workflow-bundle-traced.js'), 'utf8')).toContain('"./workflows/tracing-interceptors.ts"');
  });

  it('loads under plain node and, compiled, defaults to the prebuilt bundle and the data directory beside the output, and runs no worker without a bundle', async () => {
    const script = `
      if (require.extensions['.ts']) throw new Error('a TypeScript loader is installed');
      const { loadConfig } = require(${JSON.stringify(join(out, 'common/config.js'))});
      const { createWorker } = require(${JSON.stringify(join(out, 'worker/worker.js'))});
      require(${JSON.stringify(join(out, 'api/app.js'))});
      const config = loadConfig({});
      const traced = loadConfig({ TRACING: 'on' });
      createWorker({}).then(
        () => { throw new Error('a compiled worker started without a prebuilt bundle'); },
        (error) => process.stdout.write(JSON.stringify({ bundle: config.WORKFLOW_BUNDLE_PATH, tracedBundle: traced.WORKFLOW_BUNDLE_PATH, dataDir: config.DATA_DIR, withoutBundle: error.message })),
      );
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: root, env: nodeEnv({}) });
    expect(JSON.parse(stdout)).toEqual({
      bundle: join(out, 'workflow-bundle.js'),
      tracedBundle: join(out, 'workflow-bundle-traced.js'),
      dataDir: join(root, '.data'),
      // Compiled, the worker does not bundle dist/ at start-up (its module names would not be the shared modules').
      withoutBundle: expect.stringMatching(/prebuilt workflow bundle: run npm run build/),
    });
  });

  it('runs a referral through the compiled API and worker (node dist/…/main.js) on the dev server', async () => {
    const taskQueue = `test-${randomUUID()}`;
    leftTaskQueue(taskQueue);
    const apiPort = await freePort();
    const secret = 'compiled-build-secret-at-least-32-characters';
    const env = {
      TEMPORAL_ADDRESS: inject('devServerAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PAYLOAD_KEYS: TEST_ONLY_PAYLOAD_KEYS,
      DATA_DIR: join(root, '.data'),
      METRICS_PORT: 'off',
      LOG_LEVEL: 'warn',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      API_JWT_SECRET: secret,
      AUDIT_LOG_FILE: join(root, 'audit.log'),
    };
    const worker = start('worker/main.js', env);
    const api = start('api/main.js', env);
    await api.output((text) => text.includes('API listening'), 60_000);

    const base = `http://127.0.0.1:${apiPort}`;
    const auth = { authorization: `Bearer ${await signLocalToken(secret, { sub: 'SYS-1', roles: ['system'], allTeams: true })}` };
    const referralId = `REF-${Date.now()}`;
    const started = await fetch(`${base}/v1/referrals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ referralId, receivedAt: new Date(Date.now() - 3_600_000).toISOString(), referrerType: 'education', childProtectionConcern: false, children: [{ childRef: 'C-BUILD-1' }] }),
    });
    expect(started.status, await started.clone().text()).toBe(201);

    // The referral's state is a query the compiled worker answers, from the prebuilt bundle.
    const deadline = Date.now() + 60_000;
    let state: { status: number; body: string } = { status: 0, body: '' };
    while (Date.now() < deadline) {
      const response = await fetch(`${base}/v1/referrals/${referralId}`, { headers: auth, signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
      state = { status: response?.status ?? 0, body: (await response?.text()) ?? '' };
      if (state.status === 200) break;
      await new Promise((done) => setTimeout(done, 500));
    }
    expect(state.status, `${state.body}\nworker: ${worker.text()}`).toBe(200);
    expect(JSON.parse(state.body)).toMatchObject({ record: expect.any(Array) });

    // The pages: a view rendered and an asset served from the output.
    const signIn = await fetch(`${base}/sign-in`);
    expect(signIn.status).toBe(200);
    expect(await signIn.text()).toContain('Sign in');
    expect((await fetch(`${base}/assets/app/app.css`)).status).toBe(200);

    // Both stop cleanly on SIGTERM, as under docker stop.
    expect(await stop(api.child)).toBe(0);
    expect(await stop(worker.child)).toBe(0);
    expect(worker.text()).not.toMatch(/webpack/i);
  });
});

function start(main: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [join(out, main)], { cwd: root, env: nodeEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let text = '';
  const waiters = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return {
    child,
    text: () => text,
    output: (ready: (text: string) => boolean, timeoutMs: number) =>
      new Promise<void>((done, fail) => {
        const check = () => {
          if (ready(text)) finish(done);
        };
        const timer = setTimeout(() => finish(() => fail(new Error(`${main} did not start within ${timeoutMs} ms:\n${text}`))), timeoutMs);
        const exited = (code: number | null) => finish(() => fail(new Error(`${main} exited (${code}):\n${text}`)));
        const finish = (then: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', exited);
          then();
        };
        waiters.add(check);
        child.once('exit', exited);
        check();
      }),
  };
}

/** SIGTERM, then the exit code (SIGKILL after 30 s). */
async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
