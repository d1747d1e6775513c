/**
 * Obtains and runs the real Temporal servers this project needs, without any download
 * from outside the package registries:
 *
 * - the dev server (Temporal CLI: a real server on SQLite, with the Web UI), built from the
 *   Go module proxy at the version pinned in tools/temporal-cli (go.sum verifies every
 *   module), and cached per user outside the repo so that every clone reuses one build;
 * - the time-skipping test server (Java, io.temporal:temporal-test-server), resolved from
 *   Maven Central at the version pinned in tools/temporal-test-server/pom.xml with strict
 *   checksums, its jar's SHA-256 checked against the value pinned below.
 *
 * Run directly: `npm run temporal -- ensure | dev | postgres | test-server`. The PostgreSQL
 * engine (Temporal server and PostgreSQL 15, natively) is in scripts/temporal-postgres.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { GRPC_UNIMPLEMENTED, registerSearchAttributes } from '../common/temporal';
import { allSearchAttributeKeys } from '../workflows/search-attributes';

export { registerSearchAttributes };

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEST_SERVER_VERSION = '1.31.0';
/** SHA-256 of temporal-test-server-1.31.0.jar as published on Maven Central. */
const TEST_SERVER_JAR_SHA256 = 'c33eafa1f50af5df595f37a3c2ad8d6858a9e510034fd6c92d5bcff88cbfdcaa';

const repoRoot = resolve(__dirname, '..');
const cliModuleDir = join(repoRoot, 'tools', 'temporal-cli');
const testServerPom = join(repoRoot, 'tools', 'temporal-test-server', 'pom.xml');

export function log(message: string): void {
  process.stderr.write(`[temporal] ${message}\n`);
}

export function cacheRoot(): string {
  const base = process.env.ASSESSMENT_ENGINE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'assessment-engine');
  mkdirSync(base, { recursive: true });
  return base;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function which(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

/** Fails with a message that names what is missing and how to provide it. */
export class MissingToolError extends Error {}

// ---------------------------------------------------------------------------------------
// Dev server (Temporal CLI)
// ---------------------------------------------------------------------------------------

/**
 * Where the dev server binary comes from, in order: TEMPORAL_CLI_PATH, `temporal` on PATH,
 * the per-user cache, a build from the Go module proxy. The cache key includes go.sum, so
 * a change of pinned version or dependency builds anew.
 */
export async function ensureTemporalCli(): Promise<string> {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!existsSync(explicit)) throw new MissingToolError(`TEMPORAL_CLI_PATH=${explicit} does not exist`);
    log(`dev server: using TEMPORAL_CLI_PATH ${explicit}`);
    return explicit;
  }
  const onPath = which('temporal');
  if (onPath) {
    log(`dev server: using temporal on PATH (${onPath})`);
    return onPath;
  }
  const goSum = readFileSync(join(cliModuleDir, 'go.sum'));
  const key = `${TEMPORAL_CLI_VERSION}-${sha256(goSum).slice(0, 12)}`;
  const target = join(cacheRoot(), 'temporal-cli', key, 'temporal');
  if (existsSync(target)) {
    log(`dev server: cached build ${target}`);
    return target;
  }
  await buildTemporalCli(target);
  return target;
}

async function buildTemporalCli(target: string): Promise<void> {
  if (!which('go')) {
    throw new MissingToolError(
      'The Temporal dev server is not cached and there is no Go toolchain to build it. ' +
        'Install Go (https://go.dev/dl, or `apt-get install golang`), or put a `temporal` CLI on PATH, ' +
        'or set TEMPORAL_CLI_PATH, or point TEMPORAL_ADDRESS at a running cluster.',
    );
  }
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  log(
    `dev server: building Temporal CLI ${TEMPORAL_CLI_VERSION} from the Go module proxy ` +
      `(go.sum-verified, once per machine; a cold build takes about 4 minutes on 2 cores)`,
  );
  const started = Date.now();
  let packages = 0;
  await new Promise<void>((done, fail) => {
    const build = spawn(
      'go',
      ['build', '-v', '-mod=readonly', '-trimpath', '-o', partial, 'github.com/temporalio/cli/cmd/temporal'],
      { cwd: cliModuleDir, env: { ...process.env, GOFLAGS: '-mod=readonly' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const progress = setInterval(() => {
      log(`dev server: still building (${Math.round((Date.now() - started) / 1000)} s, ${packages} packages compiled)`);
    }, 20_000);
    let tail = '';
    build.stderr.setEncoding('utf8');
    build.stderr.on('data', (chunk: string) => {
      packages += chunk.split('\n').filter((line) => line && !line.startsWith('go: ')).length;
      tail = (tail + chunk).slice(-4000);
    });
    build.on('error', fail);
    build.on('exit', (code) => {
      clearInterval(progress);
      if (code === 0) done();
      else
        fail(
          new MissingToolError(
            `go build of the Temporal CLI failed (exit ${code}). If the Go module proxy is unreachable, ` +
              `set TEMPORAL_CLI_PATH or TEMPORAL_ADDRESS instead.\n${tail}`,
          ),
        );
    });
  });
  const version = spawnSync(partial, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`the built Temporal CLI does not run: ${version.stderr}`);
  renameSync(partial, target);
  log(`dev server: built in ${Math.round((Date.now() - started) / 1000)} s: ${version.stdout.trim()}`);
}

export interface RunningServer {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export interface DevServerOptions {
  port?: number;
  /** SQLite file; omitted = in memory (tests). */
  dbFile?: string;
  /** Start the Web UI (on port + 1000). */
  ui?: boolean;
  /** The codec server the Web UI decodes payloads with (`--ui-codec-endpoint`), e.g. http://127.0.0.1:3000/codec. */
  uiCodecEndpoint?: string;
  namespace?: string;
}

export async function startDevServer(options: DevServerOptions = {}): Promise<RunningServer> {
  // A free port can be taken between choosing it and the server binding it (or one of the
  // server's other ports can be): a server that exits before serving is started again on
  // new ports, twice at most, unless the caller fixed the port.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startDevServerOnce(options);
    } catch (error) {
      if (!(error instanceof ExitedBeforeServingError) || options.port !== undefined || attempt >= 3) throw error;
      log(`dev server: exited before serving (attempt ${attempt}); starting again on other ports:\n${error.message.split('\n').slice(0, 4).join('\n')}`);
    }
  }
}

async function startDevServerOnce(options: DevServerOptions): Promise<RunningServer> {
  let cli: string;
  try {
    cli = await ensureTemporalCli();
  } catch (error) {
    if (!(error instanceof MissingToolError) || process.env.TEMPORAL_SDK_DOWNLOAD === '0') throw error;
    return startDevServerFromSdkDownload(options, error);
  }
  const port = options.port ?? (await freePort());
  const uiPort = port + 1000;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  args.push('--namespace', options.namespace ?? 'default');
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.ui) args.push('--ui-ip', '127.0.0.1', '--ui-port', String(uiPort), ...uiCodecArgs(options));
  else args.push('--headless');
  log(`dev server: starting on 127.0.0.1:${port}${options.dbFile ? ` (SQLite ${options.dbFile})` : ' (in memory)'}`);
  const child = killOnExit(spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  const address = `127.0.0.1:${port}`;
  await waitUntilServing(child, address, 'dev server', 60_000);
  await registerSearchAttributes(address, options.namespace ?? 'default');
  log(`dev server: SERVING at ${address}`);
  return {
    address,
    uiUrl: options.ui ? `http://127.0.0.1:${uiPort}` : undefined,
    stop: () => stopProcess(child),
  };
}

function uiCodecArgs(options: DevServerOptions): string[] {
  return options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : [];
}

/**
 * The last resort, for a machine with internet but no Go: the SDK downloads a released
 * Temporal CLI itself (from outside the package registries, so it fails on this project's
 * own machines, where the Go build above is the way). TEMPORAL_SDK_DOWNLOAD=0 forbids it.
 */
async function startDevServerFromSdkDownload(options: DevServerOptions, missing: MissingToolError): Promise<RunningServer> {
  log(`dev server: ${missing.message}`);
  log('dev server: last resort: the Temporal SDK downloads a released CLI');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const port = options.port ?? (await freePort());
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port,
        ui: options.ui ?? false,
        ...(options.ui ? { uiPort: port + 1000 } : {}),
        ...(options.dbFile ? { dbFilename: options.dbFile } : {}),
        ...(options.ui && options.uiCodecEndpoint ? { extraArgs: uiCodecArgs(options) } : {}),
        namespace: options.namespace ?? 'default',
        searchAttributes: [...allSearchAttributeKeys],
      },
    });
    log(`dev server: SERVING at ${env.address} (SDK download)`);
    return { address: env.address, uiUrl: options.ui ? `http://127.0.0.1:${port + 1000}` : undefined, stop: () => env.teardown() };
  } catch (error) {
    throw new MissingToolError(`${missing.message}\nThe SDK's own download failed too (no internet?): ${error instanceof Error ? error.message : String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Time-skipping test server (Java)
// ---------------------------------------------------------------------------------------

/** Returns the Java class path of the test server, resolving it with Maven once. */
export async function ensureTestServerClasspath(): Promise<string> {
  const pomHash = sha256(readFileSync(testServerPom)).slice(0, 12);
  const dir = join(cacheRoot(), 'temporal-test-server', `${TEST_SERVER_VERSION}-${pomHash}`);
  const classpathFile = join(dir, 'classpath.txt');
  if (existsSync(classpathFile)) {
    const classpath = readFileSync(classpathFile, 'utf8').trim();
    if (classpath.split(':').every((jar) => existsSync(jar))) {
      log(`test server: cached class path ${classpathFile}`);
      return classpath;
    }
  }
  if (!which('java')) throw new MissingToolError('The time-skipping test server needs Java (`apt-get install default-jre-headless`).');
  if (!which('mvn')) throw new MissingToolError('The time-skipping test server is resolved with Maven (`apt-get install maven`).');
  mkdirSync(dir, { recursive: true });
  log(`test server: resolving io.temporal:temporal-test-server:${TEST_SERVER_VERSION} from Maven Central (strict checksums)`);
  const started = Date.now();
  const partial = `${classpathFile}.partial-${process.pid}`;
  const mvn = spawnSync(
    'mvn',
    ['-B', '-q', '-C', '-f', testServerPom, 'dependency:build-classpath', `-Dmdep.outputFile=${partial}`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (mvn.status !== 0) {
    throw new MissingToolError(`Maven could not resolve the test server (exit ${mvn.status}):\n${mvn.stdout}\n${mvn.stderr}`);
  }
  const classpath = readFileSync(partial, 'utf8').trim();
  const serverJar = classpath.split(':').find((jar) => jar.endsWith(`temporal-test-server-${TEST_SERVER_VERSION}.jar`));
  if (!serverJar) throw new Error('the resolved class path has no temporal-test-server jar');
  const actual = sha256(readFileSync(serverJar));
  if (actual !== TEST_SERVER_JAR_SHA256) {
    rmSync(partial, { force: true });
    throw new Error(`checksum mismatch for ${serverJar}: expected ${TEST_SERVER_JAR_SHA256}, got ${actual}`);
  }
  renameSync(partial, classpathFile);
  writeExecutableWrapper(dir, classpath);
  log(`test server: resolved in ${Math.round((Date.now() - started) / 1000)} s, jar SHA-256 verified`);
  return classpath;
}

/** A `temporal-test-server <port> [--enable-time-skipping]` executable, the form the SDK starts. */
function writeExecutableWrapper(dir: string, classpath: string): void {
  const wrapper = join(dir, 'temporal-test-server');
  writeFileSync(wrapper, `#!/bin/sh\nexec java -cp '${classpath}' io.temporal.testserver.TestServer "$@"\n`);
  chmodSync(wrapper, 0o755);
}

/**
 * Starts the time-skipping server ourselves rather than through the SDK: the SDK gives a
 * started server about 5 s to answer, and a cold JVM can be slower than that.
 */
export async function startTestServer(options: { port?: number } = {}): Promise<RunningServer> {
  const classpath = await ensureTestServerClasspath();
  const port = options.port ?? (await freePort());
  log(`test server: starting on 127.0.0.1:${port} (time skipping enabled)`);
  const child = killOnExit(spawn(
    'java',
    ['-XX:+UseSerialGC', '-Xss1m', '-cp', classpath, 'io.temporal.testserver.TestServer', String(port), '--enable-time-skipping'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  ));
  const address = `127.0.0.1:${port}`;
  await waitUntilServing(child, address, 'test server', 60_000);
  await registerSearchAttributes(address, 'default').catch((error: unknown) => {
    // The Java test server implements no operator service; it accepts any search
    // attribute without a schema, so workflows can still upsert ours.
    if ((error as { code?: number }).code !== GRPC_UNIMPLEMENTED) throw error;
    log('test server: no operator service (search attributes need no registration there)');
  });
  log(`test server: SERVING at ${address}`);
  return { address, stop: () => stopProcess(child) };
}

// ---------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------

/** A server process that ended before it served: its ports may have been taken meanwhile by another process. */
class ExitedBeforeServingError extends Error {}

export async function waitUntilServing(child: ChildProcess, address: string, what: string, timeoutMs: number): Promise<void> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  // The first lines say why a server failed (a Go panic's cause comes first), the last what it did since.
  let head = '';
  child.stderr?.on('data', (chunk: string) => {
    if (head.length < 2000) head = (head + chunk).slice(0, 2000);
    stderr = (stderr + chunk).slice(-4000);
  });
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) throw new ExitedBeforeServingError(`${what} exited (code ${exited}) before serving:\n${head}${stderr.length > 0 && !head.endsWith(stderr) ? `\n...\n${stderr}` : ''}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${what} did not answer at ${address} within ${timeoutMs / 1000} s: ${String(error)}\n${stderr}`);
      }
      await new Promise((wait) => setTimeout(wait, 250));
    }
  }
}

/** A server must not outlive the process that started it, even when that process crashes. */
export function killOnExit(child: ChildProcess): ChildProcess {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  return child;
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill('SIGTERM');
  });
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'ensure':
      await ensureTemporalCli();
      await ensureTestServerClasspath();
      return;
    case 'dev': {
      const server = await startDevServer({ dbFile: join(repoRoot, '.data', 'temporal.sqlite'), ui: true, port: 7233 });
      log(`Web UI ${server.uiUrl}; Ctrl-C stops it`);
      await new Promise<void>((done) => process.once('SIGINT', done).once('SIGTERM', done));
      await server.stop();
      return;
    }
    case 'postgres': {
      // In its own file (scripts/temporal-postgres.ts), loaded only when asked for.
      const { runPostgresEngine } = await import('./temporal-postgres');
      await runPostgresEngine();
      return;
    }
    case 'test-server': {
      const server = await startTestServer({ port: 7243 });
      await new Promise<void>((done) => process.once('SIGINT', done).once('SIGTERM', done));
      await server.stop();
      return;
    }
    default:
      throw new Error('usage: npm run temporal -- ensure | dev | postgres | test-server');
  }
}

if (require.main === module) {
  main(process.argv[2]).catch((error: unknown) => {
    log(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
