import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import type { Principal } from './auth';

/**
 * The codec server the Temporal Web UI (and `temporal` CLI) call to show operations staff
 * decrypted payloads: `POST /decode` and `POST /encode`, body and answer
 * `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }` (the proto JSON form).
 *
 * It does no authentication of its own: the API mounts it at /codec behind the
 * `operations` role (or, on the embedded default only, the loopback access of the dev
 * server's Web UI: EmbeddedWebUiAccess). CORS admits the configured Web UI origin only; a
 * browser request from any other origin is refused.
 */
export interface CodecRouterOptions {
  codec: PayloadCodec;
  /** The Web UI's origin, e.g. http://127.0.0.1:8233 (CODEC_CORS_ORIGIN). */
  allowedOrigin: string;
  /** Largest request body; a history event's payloads arrive in one request. */
  bodyLimit?: string;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64').refine((value) => value.length % 4 === 0, 'must be base64 (padded)');

const bodySchema = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string(), base64).nullish(),
        data: base64.nullish(),
      }),
    )
    .max(10_000),
});

type JsonPayload = z.infer<typeof bodySchema>['payloads'][number];

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, new Uint8Array(Buffer.from(value, 'base64'))])),
    data: new Uint8Array(Buffer.from(data ?? '', 'base64')),
  };
}

function toJson({ metadata, data }: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
  };
}

/**
 * What the Web UI sends: its JSON and namespace, and after an OIDC sign-in the access token
 * (Authorization) and the ID token (Authorization-Extras, which the codec does not read):
 * a preflight that left one out would make the browser drop the request.
 */
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization, authorization-extras';

/**
 * CORS for the codec server: only the configured UI origin, preflight answered here.
 * The router applies it itself; mount it also *before* the authentication in front of
 * the router (`app.use('/codec', codecCors(origin), auth, createCodecRouter(...))`), since
 * a browser's OPTIONS preflight carries no credentials and a 401 without CORS headers
 * reads as a CORS failure in the UI. Requests without an Origin header (the CLI,
 * server to server) are not browser requests and are left to the auth in front.
 */
export function codecCors(allowedOrigin: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.vary('Origin');
    const origin = req.get('origin');
    if (origin === undefined) return next();
    if (origin !== allowedOrigin) return void res.status(403).json({ error: 'origin-not-allowed', message: `origin ${origin} may not call the codec server` });
    res.set({
      'Access-Control-Allow-Origin': allowedOrigin,
      'Access-Control-Allow-Credentials': 'true',
    });
    if (req.method === 'OPTIONS') {
      res.set({
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      return void res.status(204).end();
    }
    next();
  };
}

/**
 * How the embedded default's Web UI passes the codec's access check. The dev server's UI
 * that `npm start` prints has no sign-in and cannot hold the API's bearer token, so on that
 * one machine a request is let through as operations when it (1) carries no token (a token
 * is judged as a token), (2) comes from the UI's own origin, (3) reaches the API from a
 * loopback address, (4) with no proxy's forwarding header (a proxy on this machine would
 * make a remote caller look local). `createCodecServer` never grants it in production.
 */
export interface EmbeddedWebUiAccess {
  /** The dev server's Web UI origin, e.g. http://127.0.0.1:8233. */
  origin: string;
}

/** Who the audit record names for the embedded Web UI's calls (it signs nobody in). */
export const EMBEDDED_WEB_UI_PRINCIPAL: Principal = { sub: 'LOCAL-WEB-UI', roles: ['operations'], scope: { allTeams: true } };

const LOOPBACK_ADDRESS = /^(?:127(?:\.\d{1,3}){3}|::1|::ffff:127(?:\.\d{1,3}){3})$/;
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

export function isEmbeddedWebUiRequest(req: Request, access: EmbeddedWebUiAccess): boolean {
  if (req.get('authorization') !== undefined) return false;
  if (req.get('origin') !== access.origin) return false;
  if (FORWARDING_HEADERS.some((header) => req.get(header) !== undefined)) return false;
  // The socket's own peer, never req.ip (which a trusted proxy's header may set).
  return LOOPBACK_ADDRESS.test(req.socket.remoteAddress ?? '');
}

/** What createApp mounts at /codec. */
export interface CodecServer {
  router: Router;
  allowedOrigin: string;
  /** Set only for the embedded default (never in production): see EmbeddedWebUiAccess. */
  embeddedWebUi?: EmbeddedWebUiAccess;
}

/**
 * The codec server as a process mounts it. `embeddedWebUi` asks for the loopback access
 * of the embedded default's Web UI (scripts/start.ts, when it started the dev server
 * itself); in production it is refused, whoever asks: there the UI signs its users in and
 * passes their token, and only the `operations` role with `all_teams` is let through.
 */
export function createCodecServer(options: CodecRouterOptions & { production: boolean; embeddedWebUi?: boolean }): CodecServer {
  const router = createCodecRouter(options);
  if (!options.embeddedWebUi || options.production) return { router, allowedOrigin: options.allowedOrigin };
  return { router, allowedOrigin: options.allowedOrigin, embeddedWebUi: { origin: options.allowedOrigin } };
}

/**
 * Where the dev server's Web UI finds the API's codec route: the API's own address as a
 * browser on this machine reaches it, over loopback (the codec lets the UI through only
 * from there). Or why the UI will show ciphertext: production mode (there the UI signs
 * users in and passes their token), an API not reached over loopback, or a port not known
 * before it listens.
 */
export function embeddedCodecEndpoint(config: { production: boolean; API_HOST: string; API_PORT: number }): string | { why: string } {
  if (config.production) return { why: 'NODE_ENV=production: the codec admits only an operations token, which the dev server\'s UI cannot send' };
  if (config.API_PORT === 0) return { why: 'API_PORT=0: the API\'s port is not known when the dev server starts' };
  const wildcard = ['0.0.0.0', '::', '[::]'].includes(config.API_HOST);
  const loopback = wildcard || config.API_HOST === 'localhost' || /^127(\.\d{1,3}){3}$/.test(config.API_HOST) || ['::1', '[::1]'].includes(config.API_HOST);
  if (!loopback) return { why: `API_HOST=${config.API_HOST} is not a loopback address, and the codec lets the UI through over loopback only` };
  const host = wildcard ? '127.0.0.1' : config.API_HOST === '::1' ? '[::1]' : config.API_HOST;
  return `http://${host}:${config.API_PORT}/codec`;
}

export function createCodecRouter(options: CodecRouterOptions): Router {
  const { codec, allowedOrigin } = options;
  const router = Router();

  router.use(codecCors(allowedOrigin));

  router.use(express.json({ limit: options.bodyLimit ?? '8mb' }));
  // Decrypted payloads must not linger in caches.
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  const handler = (direction: 'encode' | 'decode') => async (req: Request, res: Response) => {
    const parsed = bodySchema.safeParse(req.body);
    if (!parsed.success) {
      const message = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
      return void res.status(400).json({ error: 'invalid-request', message: `expected { payloads: [{ metadata: { key: base64 }, data: base64 }] }: ${message}` });
    }
    const payloads = parsed.data.payloads.map(fromJson);
    let result: Payload[];
    try {
      result = direction === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
    } catch (error) {
      // The codec's messages name key ids and what went wrong, never payload contents.
      return void res.status(422).json({ error: `cannot-${direction}`, message: error instanceof Error ? error.message : String(error) });
    }
    res.json({ payloads: result.map(toJson) });
  };
  router.post('/decode', handler('decode'));
  router.post('/encode', handler('encode'));

  // Body-parser errors (malformed JSON, too large) answered here, with a clear message.
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = (error as { status?: number }).status;
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') return void res.status(400).json({ error: 'invalid-request', message: 'the body is not valid JSON' });
    if (type === 'entity.too.large') return void res.status(413).json({ error: 'too-large', message: 'the request body is too large' });
    if (typeof status === 'number' && status >= 400 && status < 500) return void res.status(status).json({ error: 'invalid-request', message: (error as Error).message });
    next(error);
  });
  return router;
}
