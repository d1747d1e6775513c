import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { TLSConfig } from '@temporalio/client';
import { parsePayloadKeys, type PayloadKeyRing } from './codec';
import { defaultWorkflowBundlePath, projectRoot } from './layout';
import { loadTemporalTls } from './temporal-tls';
import { tracingFromEnv, type TracingConfig } from './tracing-config';

/** A file path; empty (compose's `${VAR:-}`) means unset. */
const optionalPath = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

/** The OpenTelemetry Prometheus exporter's customary port. */
export const DEFAULT_METRICS_PORT = 9464;

/**
 * Process configuration from the environment, validated once at start so that a wrong
 * setting stops the process with a message naming it.
 */
const configSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('assessments'),
  /** TLS to the Temporal frontend (common/temporal-tls.ts): PEM files; any of them switches TLS on. */
  TEMPORAL_TLS_CERT: optionalPath,
  TEMPORAL_TLS_KEY: optionalPath,
  TEMPORAL_TLS_CA: optionalPath,
  TEMPORAL_TLS_SERVER_NAME: optionalPath,
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  API_HOST: z.string().default('127.0.0.1'),
  /**
   * The Prometheus endpoint (`GET /metrics`, common/metrics-endpoint.ts), a server of its own
   * beside the API's: 0 or `off` = none.
   */
  METRICS_PORT: z.preprocess(
    (value) => (value === 'off' ? 0 : value === undefined || value === '' ? DEFAULT_METRICS_PORT : value),
    z.coerce.number().int().min(0).max(65535),
  ),
  /** Loopback by default: the endpoint has no authentication, so only a host's scraper should reach it. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().default(resolve(projectRoot, '.data')),
  /**
   * The prebuilt workflow bundle the worker runs (scripts/build.ts writes one, made with
   * bundleWorkflows()). Default: the build's own (`dist/workflow-bundle.js`) when running
   * compiled; from source, none: the worker bundles the workflows at start-up.
   */
  WORKFLOW_BUNDLE_PATH: optionalPath.transform((value) => (value === undefined ? undefined : resolve(value))),
  /** Where notifications and case-system records go; unset = the local outbox. */
  OUTBOUND_WEBHOOK_URL: z.url().optional(),
  OUTBOUND_WEBHOOK_SECRET: z.string().min(16).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().optional(),
  /**
   * Payload encryption keys, `id:base64key,...` (32-byte keys): the first encrypts, all
   * decrypt. Unset outside production = a key generated once under DATA_DIR.
   */
  PAYLOAD_KEYS: z
    .string()
    .optional()
    .transform((text, ctx): PayloadKeyRing | undefined => {
      if (text === undefined) return undefined;
      try {
        return parsePayloadKeys(text);
      } catch (error) {
        // The parser's messages name entries and key ids, never key material.
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /**
   * Traces (common/tracing.ts), off by default: `on`, `off`, or unset = on when an OTLP
   * endpoint below is set. The standard OpenTelemetry names; empty means unset.
   */
  TRACING: z.preprocess((value) => (value === '' ? undefined : value), z.enum(['on', 'off']).optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess((value) => (value === '' ? undefined : value), z.url({ protocol: /^https?$/ }).optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess((value) => (value === '' ? undefined : value), z.url({ protocol: /^https?$/ }).optional()),
  OTEL_SERVICE_NAME: optionalPath,
  OTEL_SDK_DISABLED: z.preprocess((value) => (value === '' ? undefined : typeof value === 'string' ? value.toLowerCase() : value), z.enum(['true', 'false']).optional()),
  /** The one browser origin (the Temporal Web UI) allowed to call the codec server. */
  CODEC_CORS_ORIGIN: z
    .url()
    .default('http://127.0.0.1:8233')
    .refine((value) => new URL(value).origin === value, { message: 'must be an origin: scheme://host[:port], without a path or trailing slash' }),
});

export type AppConfig = z.infer<typeof configSchema> & {
  outboxDir: string;
  production: boolean;
  /** TLS options for every connection to Temporal; undefined = plaintext (the dev server). */
  temporalTls: TLSConfig | undefined;
  /** Where traces go (OTLP/HTTP); undefined = tracing off, the default. */
  tracing: TracingConfig | undefined;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  if (parsed.data.OUTBOUND_WEBHOOK_URL && !parsed.data.OUTBOUND_WEBHOOK_SECRET) {
    throw new Error('invalid configuration: OUTBOUND_WEBHOOK_SECRET is required with OUTBOUND_WEBHOOK_URL (webhooks are signed)');
  }
  const production = parsed.data.NODE_ENV === 'production';
  if (production && !parsed.data.PAYLOAD_KEYS) {
    // Never a silent plaintext fallback, nor a key generated inside a container.
    throw new Error('invalid configuration: PAYLOAD_KEYS is required when NODE_ENV=production (id:base64key, 32-byte keys; the first encrypts)');
  }
  if (production && parsed.data.OUTBOUND_WEBHOOK_URL && new URL(parsed.data.OUTBOUND_WEBHOOK_URL).protocol !== 'https:') {
    throw new Error('invalid configuration: OUTBOUND_WEBHOOK_URL must be https:// when NODE_ENV=production');
  }
  const temporalTls = loadTemporalTls(parsed.data);
  if (temporalTls && !parsed.data.TEMPORAL_ADDRESS) {
    throw new Error('invalid configuration: TEMPORAL_TLS_* need TEMPORAL_ADDRESS (the frontend to reach with TLS); the dev server started here speaks plaintext');
  }
  const tracing = tracingFromEnv(parsed.data);
  // Unset, compiled: the build's bundle for this setting of traces.
  const WORKFLOW_BUNDLE_PATH = parsed.data.WORKFLOW_BUNDLE_PATH ?? defaultWorkflowBundlePath(tracing !== undefined);
  return { ...parsed.data, WORKFLOW_BUNDLE_PATH, outboxDir: join(parsed.data.DATA_DIR, 'outbox'), production, temporalTls, tracing };
}
