import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

/**
 * TLS to the Temporal frontend, from file paths (PEM), as the deployment mounts them:
 * `TEMPORAL_TLS_CERT` and `TEMPORAL_TLS_KEY` (this process's client certificate: mTLS),
 * `TEMPORAL_TLS_CA` (the CA that signed the frontend's certificate; unset = the system's),
 * `TEMPORAL_TLS_SERVER_NAME` (the name the frontend's certificate carries, when it differs
 * from the host in TEMPORAL_ADDRESS). Any of them switches TLS on. Everything is read and
 * checked at start, so a wrong file stops the process naming its variable rather than
 * failing later as an opaque handshake error.
 */
export interface TemporalTlsSettings {
  TEMPORAL_TLS_CERT?: string | undefined;
  TEMPORAL_TLS_KEY?: string | undefined;
  TEMPORAL_TLS_CA?: string | undefined;
  TEMPORAL_TLS_SERVER_NAME?: string | undefined;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function invalid(variable: string, message: string): Error {
  return new Error(`invalid configuration: ${variable}: ${message}`);
}

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw invalid(variable, `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function certificate(variable: string, file: string): { pem: Buffer; x509: X509Certificate } {
  const pem = readPem(variable, file);
  try {
    return { pem, x509: new X509Certificate(pem) };
  } catch {
    throw invalid(variable, `${file} is not a PEM certificate`);
  }
}

export function loadTemporalTls(settings: TemporalTlsSettings): TLSConfig | undefined {
  const { TEMPORAL_TLS_CERT: certFile, TEMPORAL_TLS_KEY: keyFile, TEMPORAL_TLS_CA: caFile, TEMPORAL_TLS_SERVER_NAME: serverName } = settings;
  if (!certFile && !keyFile && !caFile && !serverName) return undefined;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw invalid(certFile ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (the client certificate and its private key): set both or neither');
  }
  if (serverName !== undefined && serverName !== '' && !HOSTNAME.test(serverName)) throw invalid('TEMPORAL_TLS_SERVER_NAME', 'must be a host name, as in the frontend certificate');
  const tls: TLSConfig = {};
  if (serverName) tls.serverNameOverride = serverName;
  if (caFile) tls.serverRootCACertificate = certificate('TEMPORAL_TLS_CA', caFile).pem;
  if (certFile && keyFile) {
    const cert = certificate('TEMPORAL_TLS_CERT', certFile);
    const keyPem = readPem('TEMPORAL_TLS_KEY', keyFile);
    // As with the payload keys: a private key others can read is not a secret any more.
    const mode = statSync(keyFile).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw invalid('TEMPORAL_TLS_KEY', `${keyFile} is readable by others (mode ${mode.toString(8)}): chmod 600 it (or mount it with mode 0400)`);
    }
    let key;
    try {
      key = createPrivateKey(keyPem);
    } catch {
      throw invalid('TEMPORAL_TLS_KEY', `${keyFile} is not a PEM private key (or it is encrypted: give it unencrypted, mode 0600)`);
    }
    if (!cert.x509.checkPrivateKey(key)) throw invalid('TEMPORAL_TLS_KEY', `${keyFile} is not the private key of the certificate in TEMPORAL_TLS_CERT (${certFile})`);
    // Not enumerable: logging or serializing the configuration does not show the key.
    const pair = { crt: cert.pem } as unknown as { crt: Uint8Array; key: Uint8Array };
    Object.defineProperty(pair, 'key', { value: keyPem, enumerable: false });
    tls.clientCertPair = pair;
  }
  return tls;
}
