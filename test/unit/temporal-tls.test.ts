import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/config';
import { connectClient, connectWorkerConnection } from '../../common/temporal';
import { loadTemporalTls } from '../../common/temporal-tls';
import { testCodec } from '../support/payload-keys';

/**
 * TLS to the Temporal frontend (item 5): the settings are checked at start, and the
 * client and the worker's connection really present the client certificate and check the
 * frontend's against the configured CA. A throwaway CA and certificates come from openssl;
 * the "frontend" is an HTTP/2 TLS server that asks for a client certificate and answers
 * the one call both connections make on connecting (GetSystemInfo) and no other.
 */
const dir = mkdtempSync(join(tmpdir(), 'temporal-tls-'));
const file = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(name: string, subject: string, extensions: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  writeFileSync(file(`${name}.ext`), extensions);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.pem`, '-extfile', `${name}.ext`);
  chmodSync(file(`${name}.key`), 0o600);
}

const presented: Array<string | undefined> = [];
let frontend: Http2SecureServer;
let address: string;

beforeAll(async () => {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=throwaway test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  issue('frontend', '/CN=temporal-frontend.test', 'subjectAltName=DNS:temporal-frontend.test\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  issue('worker', '/CN=assessment-worker', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  // A second CA the frontend does not trust, with its own client certificate.
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '1', '-subj', '/CN=another CA');

  frontend = createSecureServer({
    key: readFileSync(file('frontend.key')),
    cert: readFileSync(file('frontend.pem')),
    ca: readFileSync(file('ca.pem')),
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: false,
  });
  frontend.on('secureConnection', (socket: TLSSocket) => presented.push(String(socket.getPeerCertificate().subject?.CN)));
  frontend.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.resume();
    if (headers[':path'] !== '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo') {
      return void stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'not a Temporal server' }, { endStream: true });
    }
    // The one call both connections make on connecting: an empty answer, in gRPC framing.
    const message = temporal.api.workflowservice.v1.GetSystemInfoResponse.encode({}).finish();
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    Buffer.from(message).copy(frame, 5);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frame);
  });
  await new Promise<void>((ready) => frontend.listen(0, '127.0.0.1', ready));
  address = `127.0.0.1:${(frontend.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((done) => frontend.close(done));
});

const mtls = () => ({ TEMPORAL_TLS_CERT: file('worker.pem'), TEMPORAL_TLS_KEY: file('worker.key'), TEMPORAL_TLS_CA: file('ca.pem'), TEMPORAL_TLS_SERVER_NAME: 'temporal-frontend.test' });

describe('TLS to the Temporal frontend: settings', () => {
  it('is off when no TEMPORAL_TLS_* is set (empty counts as unset)', () => {
    expect(loadTemporalTls({})).toBeUndefined();
    expect(loadConfig({ DATA_DIR: dir, TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '', TEMPORAL_TLS_CA: '', TEMPORAL_TLS_SERVER_NAME: '' }).temporalTls).toBeUndefined();
  });

  it('reads the client pair, the CA and the server name, and keeps the key out of logs', () => {
    const config = loadConfig({ DATA_DIR: dir, TEMPORAL_ADDRESS: address, ...mtls() });
    const tls = config.temporalTls!;
    expect(tls.serverNameOverride).toBe('temporal-frontend.test');
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toBe(readFileSync(file('ca.pem'), 'utf8'));
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe(readFileSync(file('worker.pem'), 'utf8'));
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toBe(readFileSync(file('worker.key'), 'utf8'));
    const keyBody = readFileSync(file('worker.key'), 'utf8').split('\n')[1]!;
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 10 })]) expect(shown).not.toContain(keyBody);
  });

  it.each([
    ['a certificate without its key', { TEMPORAL_TLS_CERT: file('worker.pem') }, /TEMPORAL_TLS_KEY: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/],
    ['a key without its certificate', { TEMPORAL_TLS_KEY: file('worker.key') }, /TEMPORAL_TLS_CERT: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/],
    ['a missing CA file', { TEMPORAL_TLS_CA: file('nowhere.pem') }, /TEMPORAL_TLS_CA: cannot read .*nowhere\.pem \(ENOENT\)/],
    ['a CA file that is not a certificate', { TEMPORAL_TLS_CA: file('worker.key') }, /TEMPORAL_TLS_CA: .* is not a PEM certificate/],
    ['a key that is not a key', { TEMPORAL_TLS_CERT: file('worker.pem'), TEMPORAL_TLS_KEY: file('worker.ext') }, /TEMPORAL_TLS_KEY: .* not a PEM private key/],
    ['the key of another certificate', { TEMPORAL_TLS_CERT: file('worker.pem'), TEMPORAL_TLS_KEY: file('frontend.key') }, /TEMPORAL_TLS_KEY: .* is not the private key of the certificate in TEMPORAL_TLS_CERT/],
    ['a server name that is not a host name', { TEMPORAL_TLS_SERVER_NAME: 'https://frontend/' }, /TEMPORAL_TLS_SERVER_NAME: must be a host name/],
  ])('refuses %s, naming the variable', (_what, settings, message) => {
    chmodSync(file('worker.ext'), 0o600);
    expect(() => loadConfig({ DATA_DIR: dir, TEMPORAL_ADDRESS: address, ...settings })).toThrow(message);
  });

  it('refuses a private key others can read, like the payload keys', () => {
    const loose = file('loose.key');
    writeFileSync(loose, readFileSync(file('worker.key')));
    chmodSync(loose, 0o644);
    expect(() => loadTemporalTls({ ...mtls(), TEMPORAL_TLS_KEY: loose })).toThrow(/TEMPORAL_TLS_KEY: .*loose\.key is readable by others \(mode 644\)/);
  });

  it('refuses TLS settings without TEMPORAL_ADDRESS (the dev server started here has no TLS)', () => {
    expect(() => loadConfig({ DATA_DIR: dir, ...mtls() })).toThrow(/TEMPORAL_TLS_\* need TEMPORAL_ADDRESS/);
  });
});

describe('TLS to the Temporal frontend: connections', () => {
  it('the client presents its certificate and trusts the frontend through the configured CA', async () => {
    presented.length = 0;
    const client = await connectClient(address, 'default', testCodec(), loadTemporalTls(mtls()));
    await client.connection.close();
    expect(presented).toContain('assessment-worker');
  });

  it("the worker's native connection does the same", async () => {
    presented.length = 0;
    const connection = await connectWorkerConnection(address, loadTemporalTls(mtls()));
    await connection.close();
    expect(presented).toContain('assessment-worker');
  });

  it('without a client certificate the frontend refuses the connection', async () => {
    presented.length = 0;
    await expect(connectClient(address, 'default', testCodec(), loadTemporalTls({ TEMPORAL_TLS_CA: file('ca.pem'), TEMPORAL_TLS_SERVER_NAME: 'temporal-frontend.test' }))).rejects.toThrow();
    expect(presented).toEqual([]);
  });

  it('a frontend whose certificate the configured CA did not sign is refused', async () => {
    presented.length = 0;
    await expect(connectClient(address, 'default', testCodec(), loadTemporalTls({ ...mtls(), TEMPORAL_TLS_CA: file('other-ca.pem') }))).rejects.toThrow();
    expect(presented).toEqual([]);
  });
});
