/**
 * The processes a campaign starts and kills: the worker and the API as separate Node
 * processes, and the Temporal dev server (started through scripts/temporal.ts). Each is
 * killed only by the pid of the process this campaign started, and restarted like a
 * service manager would: after a fault, and after an exit nobody asked for (counted and
 * reported, bounded in number).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startDevServer, type RunningServer } from '../temporal';
import { sleep } from './http';

export const repoRoot = resolve(__dirname, '..', '..');

const MAX_UNPLANNED_RESTARTS = 50;

export interface Supervised {
  readonly name: string;
  /** Processes started (the first start and every restart). */
  starts: number;
  /** Exits nobody asked for (each followed by a restart, up to a bound). */
  unplannedExits: number;
  pid(): number | undefined;
  start(): Promise<void>;
  /** SIGKILL to the pid this campaign started; resolves once it has gone. */
  kill9(): Promise<void>;
  /** Orderly stop (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Last resort on exit: SIGKILL without waiting. */
  killNow(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await sleep(50);
  }
  return true;
}

/** A TypeScript entry point run as its own Node process (node --import tsx <entry>, so the pid is the process itself). */
export class NodeService implements Supervised {
  starts = 0;
  unplannedExits = 0;
  private child?: ChildProcess;
  private wanted = false;
  private shuttingDown = false;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    /** Resolves once the process serves (bounded by its caller). */
    private readonly ready: () => Promise<void>,
    private readonly say: (message: string) => void,
  ) {}

  pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    this.wanted = true;
    if (!this.child) this.spawnOnce();
    await this.ready();
  }

  private spawnOnce(): void {
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', this.entry], { cwd: repoRoot, env: this.env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    this.starts += 1;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (!this.wanted || this.shuttingDown) return;
      this.unplannedExits += 1;
      this.say(`${this.name} exited by itself (${signal ?? `code ${code}`}); see ${this.logFile}`);
      if (this.unplannedExits > MAX_UNPLANNED_RESTARTS) {
        this.say(`${this.name}: more than ${MAX_UNPLANNED_RESTARTS} exits, not restarting it again`);
        return;
      }
      setTimeout(() => {
        if (this.wanted && !this.child && !this.shuttingDown) this.spawnOnce();
      }, 1_000).unref();
    });
  }

  async kill9(): Promise<void> {
    this.wanted = false;
    const child = this.child;
    if (!child?.pid) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(10_000)]);
  }

  async stop(): Promise<void> {
    this.shuttingDown = true;
    this.wanted = false;
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(5_000)]);
    }
  }

  killNow(): void {
    this.shuttingDown = true;
    this.wanted = false;
    if (this.child?.pid && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * The Temporal dev server, through startDevServer (scripts/temporal.ts) on a fixed port
 * and SQLite file, so that a restart after kill -9 serves the same state. startDevServer
 * does not hand out its child's pid, so it is read from /proc: the one child of this
 * process running `server start-dev` on this port.
 */
export class DevServer implements Supervised {
  readonly name = 'temporal';
  starts = 0;
  unplannedExits = 0;
  private server?: RunningServer;
  private serverPid?: number;
  private wanted = false;
  private watch?: NodeJS.Timeout;

  constructor(
    readonly port: number,
    readonly dbFile: string,
    private readonly say: (message: string) => void,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  pid(): number | undefined {
    return this.serverPid;
  }

  async start(): Promise<void> {
    if (this.starting) throw new Error('the dev server is already starting');
    this.starting = true;
    this.wanted = true;
    this.serverPid = undefined;
    try {
      const known = new Set(devServerChildren(this.port));
      this.server = await startDevServer({ port: this.port, dbFile: this.dbFile, namespace: 'default' });
      this.starts += 1;
      const pids = devServerChildren(this.port).filter((pid) => !known.has(pid));
      if (pids.length !== 1) throw new Error(`cannot tell the dev server's pid (children on port ${this.port}: ${pids.join(', ') || 'none'})`);
      this.serverPid = pids[0];
    } finally {
      this.starting = false;
    }
    // An exit nobody asked for: restart it, as for the worker and the API.
    this.watch ??= setInterval(() => void this.check(), 1_000);
  }

  private starting = false;

  private async check(): Promise<void> {
    const pid = this.serverPid;
    if (!this.wanted || this.starting || (pid !== undefined && alive(pid))) return;
    // Gone by itself, or a restart that failed (pid unknown): start it again, a bounded number of times.
    this.unplannedExits += 1;
    this.say(pid !== undefined ? `temporal dev server (pid ${pid}) exited by itself` : 'temporal dev server is not running after a failed start');
    if (this.unplannedExits > MAX_UNPLANNED_RESTARTS) return;
    try {
      await this.start();
    } catch (error) {
      this.say(`temporal dev server restart failed: ${(error as Error).message}`);
    }
  }

  async kill9(): Promise<void> {
    this.wanted = false;
    const pid = this.serverPid;
    if (pid === undefined || !alive(pid)) return;
    process.kill(pid, 'SIGKILL');
    await waitGone(pid, 10_000);
  }

  async stop(): Promise<void> {
    this.wanted = false;
    if (this.watch) clearInterval(this.watch);
    await this.server?.stop();
  }

  killNow(): void {
    this.wanted = false;
    if (this.watch) clearInterval(this.watch);
    const pid = this.serverPid;
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

/** Pids of this process's children running the dev server on this port (Linux /proc). */
function devServerChildren(port: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const portAt = args.indexOf('--port');
      if (args.includes('start-dev') && portAt >= 0 && args[portAt + 1] === String(port)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}
