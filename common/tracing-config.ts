/**
 * Whether traces are on and where they go, from the standard OpenTelemetry variables
 * (validated in common/config.ts). Kept apart from common/tracing.ts so that reading the
 * configuration loads none of the tracing SDK.
 */
export interface TracingConfig {
  /** The OTLP/HTTP traces endpoint spans are POSTed to, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  /** OTEL_SERVICE_NAME: the `service.name` of this process's spans; unset = the process's own (`assessment-api`, ...). */
  serviceName?: string;
}

/** The OTLP/HTTP default: a collector on this host. */
export const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces';

export interface TracingEnv {
  TRACING?: 'on' | 'off';
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_SERVICE_NAME?: string;
  OTEL_SDK_DISABLED?: 'true' | 'false';
}

/**
 * Off unless asked for: `TRACING=on`, or an OTLP endpoint set with TRACING unset.
 * `TRACING=off` and `OTEL_SDK_DISABLED=true` win over an endpoint. The traces endpoint is
 * used as given; the general one gets `/v1/traces` appended (as the OTLP exporters do).
 */
export function tracingFromEnv(env: TracingEnv): TracingConfig | undefined {
  if (env.TRACING === 'off' || env.OTEL_SDK_DISABLED === 'true') return undefined;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (env.TRACING !== 'on' && url === undefined) return undefined;
  return { url: url ?? DEFAULT_OTLP_TRACES_URL, ...(env.OTEL_SERVICE_NAME ? { serviceName: env.OTEL_SERVICE_NAME } : {}) };
}
