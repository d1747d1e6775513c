/**
 * The production engine on this machine: Temporal server v1.29.1 on PostgreSQL 15, natively
 * (no Docker), the same server the compose file runs in a container.
 *
 * - The server and its `temporal-sql-tool` are built with `go install` from the Go module
 *   proxy at the pinned version. The server module's own hash (the go.sum line `h1:` of
 *   go.temporal.io/server@v1.29.1) is pinned below and checked before the build; the
 *   module's go.sum verifies every dependency. The binaries, the PostgreSQL schemas and the
 *   configuration the module carries are cached per user under cacheRoot()/temporal-server/
 *   <version>, next to the dev server's build.
 * - PostgreSQL 15 is Debian's (/usr/lib/postgresql/15/bin; installed with apt-get when
 *   missing and this process is root). It refuses to run as root, so as root it runs as the
 *   `postgres` system user (or a dedicated `assessment-pg` user, created when there is no
 *   `postgres` user); otherwise as the current user. Its data lives in ./.data/pg/data,
 *   listening on 127.0.0.1 only, with a password generated once (./.data/pg/password).
 * - The schemas are installed with the sql tool from the module's schema/postgresql/v12
 *   directories; a second start finds the databases and only applies versions not yet applied.
 * - The server starts from the module's config/development-postgres12.yaml, every port
 *   moved to a free one (the frontend on TEMPORAL_PORT or 7233 when free), then the
 *   namespace is created and the project's search attributes registered.
 *
 * `npm run temporal -- postgres` runs it until Ctrl-C; `TEMPORAL_ENGINE=postgres npm start`
 * runs the stack on it; `TEMPORAL_ENGINE=postgres` in vitest's global setup runs the tests
 * that use the dev server on it (`npm run test:postgres`).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { allSearchAttributeKeys } from '../workflows/search-attributes';
import {
  cacheRoot,
  freePort,
  killOnExit,
  log,
  MissingToolError,
  registerSearchAttributes,
  stopProcess,
  waitUntilServing,
  which,
  type RunningServer,
} from './temporal';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const SERVER_MODULE = 'go.temporal.io/server';
/** go.sum's hash of go.temporal.io/server v1.29.1 (the module's zip), as the checksum database has it. */
const SERVER_MODULE_SUM = 'h1:sgiMveg/8e51lA62pWb9VzC5WTRitKFyT6XsjonHUhE=';
export const POSTGRES_MAJOR = 15;
const DEFAULT_PG_BIN = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;
/** The database user the server and the sql tool connect as (initdb's superuser). */
const DB_USER = 'temporal';
/** Made when there is no `postgres` system user and this process is root. */
const DEDICATED_USER = 'assessment-pg';

const repoRoot = resolve(__dirname, '..');

function pgLog(message: string): void {
  log(`postgres engine: ${message}`);
}

// ---------------------------------------------------------------------------------------
// The server and the sql tool, built from the Go module proxy
// ---------------------------------------------------------------------------------------

export interface TemporalServerBuild {
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 of the module: temporal/versioned and visibility/versioned. */
  schemaDir: string;
  /** config/development-postgres12.yaml of the module. */
  configFile: string;
  /** config/dynamicconfig/development-sql.yaml of the module. */
  dynamicConfigFile: string;
}

function buildLayout(dir: string): TemporalServerBuild {
  return {
    server: join(dir, 'bin', 'server'),
    sqlTool: join(dir, 'bin', 'sql'),
    schemaDir: join(dir, 'schema', 'postgresql', 'v12'),
    configFile: join(dir, 'config', 'development-postgres12.yaml'),
    dynamicConfigFile: join(dir, 'config', 'dynamicconfig', 'development-sql.yaml'),
  };
}

/** The cached build, or a new one from the Go module proxy (once per version per user). */
export async function ensureTemporalServer(): Promise<TemporalServerBuild> {
  const target = join(cacheRoot(), 'temporal-server', TEMPORAL_SERVER_VERSION);
  const layout = buildLayout(target);
  if (Object.values(layout).every((path) => existsSync(path))) {
    pgLog(`cached Temporal server ${TEMPORAL_SERVER_VERSION} and sql tool in ${target}`);
    return layout;
  }
  if (!which('go')) {
    throw new MissingToolError(
      `The Temporal server ${TEMPORAL_SERVER_VERSION} for the PostgreSQL engine is not cached (${target}) and there is no Go ` +
        'toolchain to build it. Install Go (https://go.dev/dl, or `apt-get install golang`), or point TEMPORAL_ADDRESS at a running cluster.',
    );
  }
  const started = Date.now();
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(join(partial, 'bin'), { recursive: true });
  // Outside any Go module, so that nothing of this repo's tools/ changes the resolution.
  const scratch = mkdtempSync(join(tmpdir(), 'temporal-server-build-'));
  const goEnv = { ...process.env, GOFLAGS: '-mod=readonly', GO111MODULE: 'on', GOBIN: join(partial, 'bin') };
  try {
    pgLog(`fetching ${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION} from the Go module proxy`);
    const download = spawnSync('go', ['mod', 'download', '-json', `${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`], {
      cwd: scratch,
      env: goEnv,
      encoding: 'utf8',
    });
    if (download.status !== 0) {
      throw new MissingToolError(
        `go mod download ${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION} failed (exit ${download.status}); is the Go module proxy reachable ` +
          `(GOPROXY=${process.env.GOPROXY ?? 'default'})?\n${download.stdout}${download.stderr}`,
      );
    }
    const module = JSON.parse(download.stdout) as { Dir?: string; Sum?: string; Error?: string };
    if (module.Error || !module.Dir) throw new Error(`go mod download: ${module.Error ?? 'no module directory'}`);
    if (module.Sum !== SERVER_MODULE_SUM) {
      throw new Error(`${SERVER_MODULE}@${TEMPORAL_SERVER_VERSION} has hash ${module.Sum ?? '(none)'}, pinned ${SERVER_MODULE_SUM}: refusing to build it`);
    }
    pgLog(`module hash ${module.Sum} matches the pin; module in ${module.Dir}`);
    pgLog(
      `building the Temporal server and sql tool ${TEMPORAL_SERVER_VERSION} with go install (go.sum-verified, once per user; ` +
        'about 2 minutes with a warm Go build cache, several minutes cold on 2 cores)',
    );
    await goInstall(scratch, goEnv, started, [
      `${SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
      `${SERVER_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
    ]);
    // What the server needs of its module at run time, kept with the binaries.
    const built = buildLayout(partial);
    cpSync(join(module.Dir, 'schema', 'postgresql', 'v12'), built.schemaDir, { recursive: true });
    mkdirSync(join(partial, 'config', 'dynamicconfig'), { recursive: true });
    cpSync(join(module.Dir, 'config', 'development-postgres12.yaml'), built.configFile);
    cpSync(join(module.Dir, 'config', 'dynamicconfig', 'development-sql.yaml'), built.dynamicConfigFile);
    for (const binary of [built.server, built.sqlTool]) {
      const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
      if (version.status !== 0) throw new Error(`the built ${binary} does not run: ${version.stderr}`);
    }
    rmSync(target, { recursive: true, force: true });
    renameSync(partial, target);
    pgLog(`built in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
    return layout;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(partial, { recursive: true, force: true });
  }
}

function goInstall(cwd: string, env: NodeJS.ProcessEnv, started: number, packages: string[]): Promise<void> {
  return new Promise<void>((done, fail) => {
    const build = spawn('go', ['install', '-v', '-trimpath', ...packages], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let compiled = 0;
    let tail = '';
    const progress = setInterval(() => {
      pgLog(`still building (${Math.round((Date.now() - started) / 1000)} s, ${compiled} packages compiled)`);
    }, 20_000);
    build.stderr.setEncoding('utf8');
    build.stderr.on('data', (chunk: string) => {
      compiled += chunk.split('\n').filter((line) => line && !line.startsWith('go: ')).length;
      tail = (tail + chunk).slice(-4000);
    });
    build.on('error', fail);
    build.on('exit', (code) => {
      clearInterval(progress);
      if (code === 0) done();
      else fail(new MissingToolError(`go install of the Temporal server failed (exit ${code}); is the Go module proxy reachable?\n${tail}`));
    });
  });
}

// ---------------------------------------------------------------------------------------
// PostgreSQL 15 (Debian's), as a non-root user
// ---------------------------------------------------------------------------------------

function ensurePostgresBin(): string {
  const dir = process.env.POSTGRES_BIN_DIR ?? DEFAULT_PG_BIN;
  const tools = ['initdb', 'pg_ctl', 'postgres', 'psql'];
  const complete = () => tools.every((tool) => existsSync(join(dir, tool)));
  if (complete()) return dir;
  const install = 'apt-get install -y postgresql';
  if (process.env.POSTGRES_BIN_DIR || process.getuid?.() !== 0) {
    throw new MissingToolError(
      `PostgreSQL ${POSTGRES_MAJOR} is not installed (${tools.join(', ')} not all in ${dir}). ` +
        `Install Debian's package as root (\`sudo ${install}\`), or set POSTGRES_BIN_DIR to a PostgreSQL ${POSTGRES_MAJOR} bin directory.`,
    );
  }
  pgLog(`PostgreSQL ${POSTGRES_MAJOR} is not installed: ${install}`);
  let result = spawnSync('apt-get', ['install', '-y', 'postgresql'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) {
    pgLog('apt-get install failed; apt-get update, then once more');
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    result = spawnSync('apt-get', ['install', '-y', 'postgresql'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (result.status !== 0 || !complete()) {
    throw new MissingToolError(`\`${install}\` did not provide PostgreSQL ${POSTGRES_MAJOR} in ${dir} (exit ${result.status}); install it and run again.`);
  }
  return dir;
}

interface PgUser {
  name: string;
  uid: number;
  gid: number;
  /** Whether commands must switch to this user (this process is root). */
  switch: boolean;
}

function idOf(name: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** PostgreSQL refuses to run as root: as root, the `postgres` system user or a dedicated one. */
function postgresUser(): PgUser {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    const name = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim() || String(uid);
    return { name, uid, gid: process.getgid?.() ?? uid, switch: false };
  }
  const existing = idOf('postgres') ?? idOf(DEDICATED_USER);
  if (existing) return { name: idOf('postgres') ? 'postgres' : DEDICATED_USER, ...existing, switch: true };
  pgLog(`no 'postgres' user on this machine: creating the system user ${DEDICATED_USER} to run PostgreSQL`);
  const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', DEDICATED_USER], { encoding: 'utf8' });
  const ids = idOf(DEDICATED_USER);
  if (made.status !== 0 || !ids) throw new MissingToolError(`could not create the user ${DEDICATED_USER} to run PostgreSQL: ${made.stderr}`);
  return { name: DEDICATED_USER, ...ids, switch: true };
}

/** Runs a PostgreSQL command as its user; throws with the output on failure. */
function asPgUser(user: PgUser, command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    ...(user.switch ? { uid: user.uid, gid: user.gid } : {}),
    env: { ...process.env, ...(user.switch ? { HOME: cwd, USER: user.name, LOGNAME: user.name } : {}), LC_ALL: 'C.UTF-8' },
  });
  if (result.error) throw result.error;
  return result;
}

/**
 * As root, PostgreSQL's user must reach its directory. DATA_DIR (./.data) is made 0700 for
 * the payload keys: it gets execute (search) for others, not read, so that its entries
 * stay unlisted and its files keep their own modes (0600).
 */
function reachableBy(user: PgUser, dir: string): void {
  const canWrite = () => asPgUser(user, 'test', ['-w', dir], '/').status === 0;
  if (canWrite()) return;
  const parent = dirname(dir);
  const stat = statSync(parent);
  if (stat.uid === process.getuid?.() && (stat.mode & 0o001) === 0) {
    pgLog(`chmod o+x ${parent} (search only, no listing), so that ${user.name} reaches ${dir}`);
    chmodSync(parent, (stat.mode & 0o7777) | 0o001);
  }
  if (!canWrite()) {
    throw new MissingToolError(
      `the user ${user.name} cannot write ${dir} (PostgreSQL runs as it): every parent directory needs search permission for it (o+x), or choose another DATA_DIR`,
    );
  }
}

function check(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

// ---------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------

export interface PostgresEngineOptions {
  /** PostgreSQL's data, its log, the server's config and log; ./.data/pg unless given. */
  dir?: string;
  /** The frontend's port; when omitted 7233 if free, else a free one. Given and taken = an error. */
  port?: number;
  namespace?: string;
  /**
   * A throwaway engine (tests): a fresh directory under the system's temp dir, removed on
   * stop, PostgreSQL without fsync. Ignores `dir`.
   */
  ephemeral?: boolean;
}

export interface PostgresEngine extends RunningServer {
  /** The size on disk of each of the server's databases (`pg_database_size`), in bytes. */
  databaseBytes(): { temporal: number; visibility: number };
}

export async function startPostgresEngine(options: PostgresEngineOptions = {}): Promise<PostgresEngine> {
  const namespace = options.namespace ?? 'default';
  const build = await ensureTemporalServer();
  const pgBin = ensurePostgresBin();
  const user = postgresUser();
  const dir = options.ephemeral ? mkdtempSync(join(tmpdir(), 'assessment-pg-')) : resolve(options.dir ?? join(repoRoot, '.data', 'pg'));
  const dataDir = join(dir, 'data');
  const passwordFile = join(dir, 'password');
  mkdirSync(dirname(dir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user.switch) {
    chownSync(dir, user.uid, user.gid);
    reachableBy(user, dir);
  }

  // initdb once: the cluster's superuser is `temporal`, with a password generated now.
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    pgLog(`initdb ${dataDir} (as ${user.name})`);
    rmSync(dataDir, { recursive: true, force: true });
    writeFileSync(passwordFile, `${randomBytes(18).toString('hex')}\n`, { mode: 0o600 });
    if (user.switch) chownSync(passwordFile, user.uid, user.gid);
    check(
      asPgUser(user, join(pgBin, 'initdb'), ['-D', dataDir, '-U', DB_USER, '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '-E', 'UTF8', '--locale=C.UTF-8'], dir),
      'initdb',
    );
    const settings = [
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      'max_connections = 200',
      ...(options.ephemeral ? ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off'] : []),
    ];
    writeFileSync(join(dataDir, 'postgresql.conf'), `${readFileSync(join(dataDir, 'postgresql.conf'), 'utf8')}\n# assessment engine\n${settings.join('\n')}\n`);
  } else {
    pgLog(`reusing the PostgreSQL data in ${dataDir}`);
  }
  const password = readFileSync(passwordFile, 'utf8').trim();

  const status = asPgUser(user, join(pgBin, 'pg_ctl'), ['status', '-D', dataDir], dir);
  if (status.status === 0) {
    throw new Error(
      `PostgreSQL is already running on ${dataDir} (another \`npm start\` or \`npm run temporal -- postgres\`?). ` +
        `Stop that one; if it was left behind by a process that was killed: ${pgBin}/pg_ctl stop -D ${dataDir}${user.switch ? ` (as ${user.name})` : ''}`,
    );
  }
  const pgPort = await freePort();
  pgLog(`starting PostgreSQL ${POSTGRES_MAJOR} on 127.0.0.1:${pgPort} (as ${user.name}; log ${join(dir, 'postgres.log')})`);
  check(
    asPgUser(user, join(pgBin, 'pg_ctl'), ['start', '-w', '-t', '120', '-D', dataDir, '-l', join(dir, 'postgres.log'), '-o', `-p ${pgPort}`], dir),
    'pg_ctl start',
  );
  let pgRunning = true;
  const stopPostgres = (mode: 'fast' | 'immediate') => {
    if (!pgRunning) return;
    pgRunning = false;
    pgLog(`pg_ctl stop -m ${mode}`);
    const stopped = asPgUser(user, join(pgBin, 'pg_ctl'), ['stop', '-w', '-D', dataDir, '-m', mode], dir);
    if (stopped.status !== 0) pgLog(`pg_ctl stop failed: ${stopped.stderr.trim()}`);
  };
  // Never outlive this process (a crash included): the exit handler may only run synchronous code.
  let server: ChildProcess | undefined;
  const onExit = () => {
    server?.kill('SIGKILL');
    stopPostgres('immediate');
    if (options.ephemeral) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  try {
    installSchemas(build, pgBin, pgPort, password);
    const configRoot = join(dir, 'temporal');
    const frontendPort = await choosePort(options.port);
    const ports = await serverPorts(frontendPort);
    writeServerConfig(build, configRoot, pgPort, password, ports);
    const serverLog = join(dir, 'temporal-server.log');
    pgLog(`starting Temporal server ${TEMPORAL_SERVER_VERSION} on 127.0.0.1:${frontendPort} (log ${serverLog})`);
    server = killOnExit(
      spawn(build.server, ['--root', configRoot, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {
        cwd: configRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const logStream = createWriteStream(serverLog, { flags: 'a' });
    server.stdout?.pipe(logStream);
    server.stderr?.on('data', (chunk: Buffer) => logStream.write(chunk));
    const address = `127.0.0.1:${frontendPort}`;
    await waitUntilServing(server, address, 'Temporal server (PostgreSQL)', 120_000);
    const namespaceIsNew = await createNamespace(address, namespace);
    await registerWhenReady(address, namespace, namespaceIsNew);
    pgLog(`SERVING at ${address} (namespace ${namespace}, PostgreSQL 127.0.0.1:${pgPort}, data ${dataDir})`);
    const running = server;
    let stopped = false;
    return {
      address,
      databaseBytes() {
        const size = (database: string) =>
          Number(
            check(
              spawnSync(join(pgBin, 'psql'), ['-h', '127.0.0.1', '-p', String(pgPort), '-U', DB_USER, '-d', database, '-tAc', `SELECT pg_database_size('${database}')`], {
                env: { ...process.env, PGPASSWORD: password },
                encoding: 'utf8',
              }),
              `psql pg_database_size(${database})`,
            ).trim(),
          );
        return { temporal: size('temporal'), visibility: size('temporal_visibility') };
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        pgLog('stopping the Temporal server');
        await stopProcess(running);
        stopPostgres('fast');
        process.off('exit', onExit);
        logStream.end();
        if (options.ephemeral) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (server) await stopProcess(server);
    stopPostgres('fast');
    process.off('exit', onExit);
    if (options.ephemeral) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function choosePort(requested: number | undefined): Promise<number> {
  if (requested !== undefined) {
    if (!(await portIsFree(requested))) throw new Error(`port ${requested} is taken: choose another (TEMPORAL_PORT) or leave it out for a free one`);
    return requested;
  }
  if (await portIsFree(7233)) return 7233;
  const port = await freePort();
  pgLog(`port 7233 is taken: the frontend goes on ${port}`);
  return port;
}

interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

/**
 * Free ports for every listener of the server. The membership ports are written to
 * PostgreSQL's cluster_membership.rpc_port, a SMALLINT: above 32767 the server dies at
 * start ("out of range for type smallint"), so those come from 20000-32767, below Linux's
 * ephemeral range; the others are any free port.
 */
async function serverPorts(frontend: number): Promise<ServerPorts> {
  const taken = new Set([frontend]);
  const next = async () => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  const membership = async () => {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const port = 20_000 + Math.floor(Math.random() * 12_768);
      if (!taken.has(port) && (await portIsFree(port))) {
        taken.add(port);
        return port;
      }
    }
    throw new Error('no free port between 20000 and 32767 for the server\'s membership');
  };
  return {
    frontend,
    frontendHttp: await next(),
    frontendMembership: await membership(),
    history: await next(),
    historyMembership: await membership(),
    matching: await next(),
    matchingMembership: await membership(),
    worker: await next(),
    workerMembership: await membership(),
    metrics: await next(),
  };
}

/**
 * The module's development-postgres12.yaml with this machine's values: PostgreSQL's port
 * and password, every port of the server free (pprof off), the dynamic config by absolute
 * path. Each replacement must match exactly as often as expected, or the pinned file is not
 * the one this was written for.
 */
function writeServerConfig(build: TemporalServerBuild, configRoot: string, pgPort: number, password: string, ports: ServerPorts): void {
  let text = readFileSync(build.configFile, 'utf8');
  const dynamicConfig = join(configRoot, 'config', 'dynamicconfig.yaml');
  const replace = (from: string, to: string, times: number) => {
    const found = text.split(from).length - 1;
    if (found !== times) throw new Error(`${build.configFile}: expected ${times} of ${JSON.stringify(from)}, found ${found}`);
    text = text.split(from).join(to);
  };
  replace('connectAddr: "127.0.0.1:5432"', `connectAddr: "127.0.0.1:${pgPort}"`, 2);
  replace('password: "temporal"', `password: "${password}"`, 2);
  replace('user: "temporal"', `user: "${DB_USER}"`, 2);
  replace('level: info', 'level: warn', 1);
  replace('port: 7936', 'port: 0', 1);
  replace('listenAddress: "127.0.0.1:8000"', `listenAddress: "127.0.0.1:${ports.metrics}"`, 1);
  replace('grpcPort: 7233', `grpcPort: ${ports.frontend}`, 1);
  replace('httpPort: 7243', `httpPort: ${ports.frontendHttp}`, 1);
  replace('membershipPort: 6933', `membershipPort: ${ports.frontendMembership}`, 1);
  replace('grpcPort: 7234', `grpcPort: ${ports.history}`, 1);
  replace('membershipPort: 6934', `membershipPort: ${ports.historyMembership}`, 1);
  replace('grpcPort: 7235', `grpcPort: ${ports.matching}`, 1);
  replace('membershipPort: 6935', `membershipPort: ${ports.matchingMembership}`, 1);
  replace('grpcPort: 7239', `grpcPort: ${ports.worker}`, 1);
  replace('membershipPort: 6939', `membershipPort: ${ports.workerMembership}`, 1);
  replace('rpcAddress: "localhost:7233"', `rpcAddress: "127.0.0.1:${ports.frontend}"`, 1);
  replace('filepath: "config/dynamicconfig/development-sql.yaml"', `filepath: "${dynamicConfig}"`, 1);
  mkdirSync(join(configRoot, 'config'), { recursive: true });
  writeFileSync(join(configRoot, 'config', 'development.yaml'), text);
  let dynamic = readFileSync(build.dynamicConfigFile, 'utf8').split('http://localhost:7243/').join(`http://127.0.0.1:${ports.frontendHttp}/`);
  if (dynamic.includes(VISIBILITY_RPS_KEY)) throw new Error(`${build.dynamicConfigFile} sets ${VISIBILITY_RPS_KEY} already`);
  // The dev server's value (temporal server start-dev sets it), so that both engines allow
  // the API's listings (prompt list, inbox, reports, the tests' polling) the same rate; the
  // server's own default is 10 visibility calls a second per namespace.
  dynamic += `\n# assessment engine (scripts/temporal-postgres.ts), as the dev server has it\n${VISIBILITY_RPS_KEY}:\n  - value: 100\n`;
  writeFileSync(dynamicConfig, dynamic);
}

/** Both databases: created and set up on the first start; later starts apply only newer versions. */
function installSchemas(build: TemporalServerBuild, pgBin: string, pgPort: number, password: string): void {
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: '127.0.0.1',
    SQL_PORT: String(pgPort),
    SQL_USER: DB_USER,
    SQL_PASSWORD: password,
    PGPASSWORD: password,
  };
  const psql = (database: string, sql: string) =>
    check(
      spawnSync(join(pgBin, 'psql'), ['-h', '127.0.0.1', '-p', String(pgPort), '-U', DB_USER, '-d', database, '-tAc', sql], { env, encoding: 'utf8' }),
      `psql ${sql}`,
    ).trim();
  const tool = (database: string, args: string[]) =>
    check(spawnSync(build.sqlTool, ['--db', database, ...args], { env, encoding: 'utf8' }), `temporal-sql-tool --db ${database} ${args.join(' ')}`);
  for (const [database, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    if (psql('postgres', `SELECT count(*) FROM pg_database WHERE datname = '${database}'`) === '0') {
      pgLog(`sql tool: create-database ${database}`);
      tool(database, ['create-database']);
    }
    if (psql(database, "SELECT to_regclass('public.schema_version') IS NULL") === 't') {
      pgLog(`sql tool: setup-schema ${database}`);
      tool(database, ['setup-schema', '-v', '0.0']);
    }
    const versioned = join(build.schemaDir, schema, 'versioned');
    tool(database, ['update-schema', '-d', versioned]);
    const version = psql(database, 'SELECT curr_version FROM schema_version LIMIT 1');
    pgLog(`schema ${database}: version ${version} (from ${versioned})`);
  }
}

const ALREADY_EXISTS = 6;
const VISIBILITY_RPS_KEY = 'frontend.namespaceRPS.visibility';

/** Creates the namespace; whether it was new. */
async function createNamespace(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('3 days'),
      description: 'assessment engine',
    });
    pgLog(`created namespace ${namespace} (retention 3 days)`);
    return true;
  } catch (error) {
    if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
    pgLog(`namespace ${namespace} exists`);
    return false;
  } finally {
    await connection.close();
  }
}

/**
 * A new namespace reaches the services' caches some seconds after it is created, and new
 * search attributes some seconds after they are added (each service of the server keeps
 * its own namespace cache, refreshed every 10 s): register them once the namespace answers,
 * wait until the frontend accepts a visibility query naming every one of them, and when
 * anything was new, one refresh more, so that the first workflow that sets them does not
 * fail in the history service.
 */
async function registerWhenReady(address: string, namespace: string, namespaceIsNew: boolean): Promise<void> {
  const started = Date.now();
  const deadline = started + 120_000;
  let registered = false;
  let changed = namespaceIsNew;
  const query = allSearchAttributeKeys.map((key) => `${key.name} IS NULL`).join(' AND ');
  const connection = await Connection.connect({ address });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!registered) {
          const existing = await connection.operatorService.listSearchAttributes({ namespace });
          const known = Object.keys(existing.customAttributes ?? {});
          if (allSearchAttributeKeys.some((key) => !known.includes(key.name))) changed = true;
          await registerSearchAttributes(address, namespace);
          registered = true;
        }
        await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1, query });
        if (changed) {
          pgLog('waiting 11 s for every service of the server to refresh its namespace cache');
          await new Promise((wait) => setTimeout(wait, 11_000));
        }
        pgLog(`namespace ${namespace} and its ${allSearchAttributeKeys.length} search attributes are ready (${Math.round((Date.now() - started) / 1000)} s)`);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`namespace ${namespace} or its search attributes did not become ready within 120 s: ${String(error)}`);
        if (attempt % 10 === 0) pgLog(`waiting for namespace ${namespace} ${registered ? 'search attributes' : ''} to propagate (${(error as Error).message.split('\n')[0]})`);
        await new Promise((wait) => setTimeout(wait, 1000));
      }
    }
  } finally {
    await connection.close();
  }
}

/** `npm run temporal -- postgres`: runs the engine until Ctrl-C or SIGTERM. */
export async function runPostgresEngine(): Promise<void> {
  const port = process.env.TEMPORAL_PORT ? Number(process.env.TEMPORAL_PORT) : undefined;
  const engine = await startPostgresEngine({
    port,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    ...(process.env.DATA_DIR ? { dir: join(resolve(process.env.DATA_DIR), 'pg') } : {}),
  });
  process.stdout.write(`Temporal on PostgreSQL is serving at ${engine.address}\n  TEMPORAL_ADDRESS=${engine.address} npm start   (or npm run worker / npm run api)\nCtrl-C stops it.\n`);
  await new Promise<void>((done) => process.once('SIGINT', done).once('SIGTERM', done));
  await engine.stop();
  log('stopped');
}
