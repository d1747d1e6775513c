/**
 * The driver's HTTP client, retrying as a case management system would: the same request
 * (same body, same eventId) again after a network error, a timeout, a 5xx or a 429, with
 * backoff and jitter, bounded in attempts and in time. Every answer other than those goes
 * back to the caller, which decides what it means.
 */
import type { Rng } from './prng';

export interface DriverStats {
  requests: number;
  writes: number;
  retries: { writes: number; reads: number };
  /** Why requests were retried: 'network', 'timeout', '500', '503', '429', ... */
  retryCauses: Map<string, number>;
  /** When each successful (2xx) write answered, in order: recovery after a fault is read from these. */
  writeOkAt: number[];
  /** Calls that gave up after their bound. */
  gaveUp: number;
}

export function newDriverStats(): DriverStats {
  return { requests: 0, writes: 0, retries: { writes: 0, reads: 0 }, retryCauses: new Map(), writeOkAt: [], gaveUp: 0 };
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
  /** Attempts it took (1 = no retry). */
  attempts: number;
}

export class GaveUpError extends Error {}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent with every attempt (an Idempotency-Key stays the same across retries). */
  headers?: Record<string, string>;
  /** Bound of this call, retries included (ms). */
  maxMs?: number;
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const MAX_ATTEMPTS = 60;

export class ApiClient {
  constructor(
    private readonly base: string,
    readonly stats: DriverStats,
    private readonly jitter: Rng,
    /** The campaign's own deadline: no call outlives it. */
    private readonly hardDeadline: number,
  ) {}

  async call<T = unknown>(method: 'GET' | 'POST', path: string, options: CallOptions = {}): Promise<Answer<T>> {
    const write = method === 'POST';
    const until = Math.min(Date.now() + (options.maxMs ?? 240_000), this.hardDeadline);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    let lastCause = 'none';
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      if (attempt > 1) {
        const backoff = Math.min(250 * 2 ** (attempt - 2), 4_000) * (0.5 + this.jitter.next());
        if (Date.now() + backoff >= until) break;
        if (write) this.stats.retries.writes += 1;
        else this.stats.retries.reads += 1;
        this.stats.retryCauses.set(lastCause, (this.stats.retryCauses.get(lastCause) ?? 0) + 1);
        await sleep(backoff);
      }
      this.stats.requests += 1;
      if (write) this.stats.writes += 1;
      const timeout = Math.max(1_000, Math.min(write ? 30_000 : 15_000, until - Date.now()));
      try {
        const response = await fetch(`${this.base}${path}`, {
          method,
          headers: {
            ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...options.headers,
          },
          ...(payload !== undefined ? { body: payload } : {}),
          signal: AbortSignal.timeout(timeout),
        });
        const text = await response.text();
        if (RETRY_STATUSES.has(response.status)) {
          lastCause = String(response.status);
          continue;
        }
        if (write && response.status >= 200 && response.status < 300) this.stats.writeOkAt.push(Date.now());
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: the caller sees the text
        }
        return { status: response.status, body: body as T, attempts: attempt };
      } catch (error) {
        lastCause = (error as Error)?.name === 'TimeoutError' ? 'timeout' : 'network';
      }
      if (Date.now() >= until) break;
    }
    this.stats.gaveUp += 1;
    throw new GaveUpError(`${method} ${path}: gave up (last: ${lastCause})`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, Math.max(0, ms)));
}
