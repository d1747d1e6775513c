import { resolve } from 'node:path';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import type { Tracing } from './tracing';
import { allSearchAttributeKeys } from '../workflows/search-attributes';

/** gRPC status code 12: the server does not implement that call. */
export const GRPC_UNIMPLEMENTED = 12;

/**
 * The module exporting the failure converter (`encodeCommonAttributes: true`). It goes by
 * path so that the workflow bundler compiles the same converter into the workflow sandbox:
 * every workflow bundle must be built with it (see `bundleWorkflows` in worker/worker.ts).
 */
export const failureConverterPath = resolve(__dirname, 'failure-converter.cjs');

/**
 * The one place that says how this project talks to Temporal: the worker, the API and the
 * tests all build their clients and connections here, with the same data converter —
 * payloads encrypted by the codec (common/codec.ts), failure messages and stack traces
 * encoded into payloads so that the codec encrypts them too.
 */
export function dataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath };
}

/**
 * `tls` is `AppConfig.temporalTls` (common/temporal-tls.ts): mTLS to the frontend when
 * TEMPORAL_TLS_* are set; undefined = plaintext, for the dev server on this machine.
 * `tracing` on (common/tracing.ts): workflow starts, signals, updates and queries become
 * spans, and their trace context goes to the workflow in Temporal headers.
 */
export async function connectClient(address: string, namespace: string, codec: PayloadCodec, tls?: TLSConfig, tracing?: Tracing): Promise<Client> {
  const connection = await Connection.connect({ address, ...(tls ? { tls } : {}) });
  return new Client({
    connection,
    namespace,
    dataConverter: dataConverter(codec),
    ...(tracing?.enabled ? { interceptors: { workflow: tracing.clientInterceptors } } : {}),
  });
}

export async function connectWorkerConnection(address: string, tls?: TLSConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address, ...(tls ? { tls } : {}) });
}

/**
 * Adds the project's custom search attributes to a namespace, leaving those that exist.
 * Used for the dev server, the test server and an external cluster alike.
 */
export async function registerSearchAttributes(address: string, namespace: string, tls?: TLSConfig): Promise<void> {
  const connection = await Connection.connect({ address, ...(tls ? { tls } : {}) });
  try {
    const known = new Set<string>();
    try {
      const existing = await connection.operatorService.listSearchAttributes({ namespace });
      for (const name of Object.keys(existing.customAttributes ?? {})) known.add(name);
    } catch (error) {
      if ((error as { code?: number }).code !== GRPC_UNIMPLEMENTED) throw error;
    }
    const missing = allSearchAttributeKeys.filter((key) => !known.has(key.name));
    if (missing.length === 0) return;
    const searchAttributes: Record<string, number> = {};
    for (const key of missing) {
      searchAttributes[key.name] = temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`];
    }
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
    console.error(`[temporal] registered search attributes on ${address}: ${missing.map((key) => key.name).join(', ')}`);
  } finally {
    await connection.close();
  }
}
