import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, METADATA_KEY_ID, parsePayloadKeys, PayloadDecryptionError } from '../../common/codec';
import { loadConfig } from '../../common/config';
import { failureConverterPath } from '../../common/temporal';
import { PAYLOAD_KEYS_FILE, payloadCodecFromConfig, resolvePayloadKeys } from '../../common/payload-keys';
import { TEST_ONLY_KEY_1, TEST_ONLY_KEY_2, testCodec } from '../support/payload-keys';

const MARKER = 'CANARY-7f3a';
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

describe('AES-256-GCM payload codec', () => {
  it('round-trips a payload, hides its data and its original metadata, and names the key', async () => {
    const codec = testCodec();
    const original = payloadOf({ childRef: 'C-1', note: MARKER });
    const [encoded] = await codec.encode([original]);
    expect(text(encoded!.metadata![METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded!.metadata![METADATA_KEY_ID])).toBe('test-only-k1');
    expect(Buffer.from(encoded!.data!).includes(MARKER)).toBe(false);
    expect(Buffer.from(encoded!.data!).includes('json/plain')).toBe(false);
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ childRef: 'C-1', note: MARKER });
    expect(text(decoded!.metadata![METADATA_ENCODING_KEY])).toBe('json/plain');
  });

  it('uses a fresh IV for every payload', async () => {
    const codec = testCodec();
    const same = payloadOf(MARKER);
    const encoded = await codec.encode([same, same, same]);
    const ivs = new Set(encoded.map((payload) => Buffer.from(payload.data!).subarray(0, 12).toString('hex')));
    const bodies = new Set(encoded.map((payload) => Buffer.from(payload.data!).toString('hex')));
    expect(ivs.size).toBe(3);
    expect(bodies.size).toBe(3);
  });

  it('refuses a payload whose ciphertext, tag or IV was altered', async () => {
    const codec = testCodec();
    const [encoded] = await codec.encode([payloadOf({ note: MARKER })]);
    for (const at of [0, 12, encoded!.data!.length - 1]) {
      const data = Buffer.from(encoded!.data!);
      data[at] = data[at]! ^ 0x01;
      await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow(/key id 'test-only-k1' failed authentication/);
    }
    await expect(codec.decode([{ ...encoded!, data: Buffer.from(encoded!.data!).subarray(0, 10) }])).rejects.toThrow(/truncated/);
  });

  it('refuses a payload whose key id metadata was swapped to another configured key', async () => {
    const codec = testCodec(`${TEST_ONLY_KEY_2},${TEST_ONLY_KEY_1}`);
    const [encoded] = await codec.encode([payloadOf(MARKER)]);
    const swapped = { ...encoded!, metadata: { ...encoded!.metadata, [METADATA_KEY_ID]: Buffer.from('test-only-k1') } };
    await expect(codec.decode([swapped])).rejects.toThrow(PayloadDecryptionError);
  });

  it('names the key id when the key that sealed a payload is not configured', async () => {
    const [encoded] = await testCodec(TEST_ONLY_KEY_1).encode([payloadOf(MARKER)]);
    const error = await testCodec(TEST_ONLY_KEY_2)
      .decode([encoded!])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect((error as Error).message).toContain("key id 'test-only-k1'");
    expect((error as Error).message).toContain('not in PAYLOAD_KEYS');
    expect((error as Error).message).not.toMatch(/S6kyP/);
    // The ids this codec holds are nobody's business (its errors reach codec server callers).
    expect((error as Error).message).not.toContain('test-only-k2');
  });

  it('with refusePlaintext (production) refuses an unencrypted payload and still reads sealed ones', async () => {
    const strict = new AesGcmPayloadCodec(parsePayloadKeys(TEST_ONLY_KEY_1), { refusePlaintext: true });
    const error = await strict.decode([payloadOf(MARKER)]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect((error as Error).message).toMatch(/refused a payload that is not encrypted \(encoding 'json\/plain'\)/);
    expect((error as Error).message).not.toContain(MARKER);
    expect((error as Error).message).not.toContain('test-only-k1');
    await expect(strict.decode([{ metadata: {}, data: new Uint8Array() }])).rejects.toThrow(/encoding 'none'/);
    const [sealed] = await strict.encode([payloadOf(MARKER)]);
    expect(defaultPayloadConverter.fromPayload((await strict.decode([sealed!]))[0]!)).toBe(MARKER);
  });

  it('payloadCodecFromConfig refuses unencrypted payloads in production only', () => {
    const DATA_DIR = mkdtempSync(join(tmpdir(), 'keys-strict-'));
    expect(payloadCodecFromConfig({ DATA_DIR, production: true, PAYLOAD_KEYS: parsePayloadKeys(TEST_ONLY_KEY_1) }).refusePlaintext).toBe(true);
    expect(payloadCodecFromConfig({ DATA_DIR, production: false, PAYLOAD_KEYS: parsePayloadKeys(TEST_ONLY_KEY_1) }).refusePlaintext).toBe(false);
  });

  it('encrypts with the first key and decrypts with any configured one (rotation)', async () => {
    const [old] = await testCodec(TEST_ONLY_KEY_1).encode([payloadOf('old')]);
    const rotated = testCodec(`${TEST_ONLY_KEY_2},${TEST_ONLY_KEY_1}`);
    const [fresh] = await rotated.encode([payloadOf('new')]);
    expect(text(fresh!.metadata![METADATA_KEY_ID])).toBe('test-only-k2');
    const decoded = await rotated.decode([old!, fresh!]);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual(['old', 'new']);
  });

  it('passes unencrypted payloads (older histories) through on decode', async () => {
    const plain = payloadOf('plain');
    const [decoded] = await testCodec().decode([plain]);
    expect(decoded).toBe(plain);
  });
});

describe('PAYLOAD_KEYS configuration', () => {
  const base = { DATA_DIR: mkdtempSync(join(tmpdir(), 'keys-config-')) };

  it('parses id:base64key lists and keeps their order', () => {
    const config = loadConfig({ ...base, PAYLOAD_KEYS: ` ${TEST_ONLY_KEY_2} , ${TEST_ONLY_KEY_1} ` });
    expect(config.PAYLOAD_KEYS!.map((key) => key.id)).toEqual(['test-only-k2', 'test-only-k1']);
    expect(config.PAYLOAD_KEYS![0].key).toHaveLength(32);
    // Logging the configuration shows key ids, never key material.
    const material = config.PAYLOAD_KEYS!.map((key) => key.key.toString('base64'));
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 10 })]) {
      expect(shown).toContain('test-only-k2');
      for (const secret of material) expect(shown).not.toContain(secret);
    }
  });

  it.each([
    ['no id', 'S6kyP+WeiV8g4OnM+swY2pkLKbPLlq9urqi81xVn1QM=', /entry 1 must be id:base64key/],
    ['a short key', 'k1:c2hvcnQ=', /key id 'k1'.*32 random bytes/],
    ['not base64', 'k1:not*base64', /key id 'k1'.*not valid base64/],
    ['a duplicate id', `${TEST_ONLY_KEY_1},${TEST_ONLY_KEY_1}`, /'test-only-k1' appears twice/],
    ['a bad id', 'bad id:S6kyP+WeiV8g4OnM+swY2pkLKbPLlq9urqi81xVn1QM=', /key id may hold only/],
    ['nothing', ' , ', /PAYLOAD_KEYS is empty/],
  ])('refuses %s, without echoing key material', (_what, value, message) => {
    let caught: Error | undefined;
    try {
      loadConfig({ ...base, PAYLOAD_KEYS: value });
    } catch (error) {
      caught = error as Error;
    }
    expect(caught?.message).toMatch(/^invalid configuration: PAYLOAD_KEYS/);
    expect(caught?.message).toMatch(message);
    expect(caught?.message).not.toContain('S6kyP');
  });

  it('refuses to start in production without PAYLOAD_KEYS (no plaintext fallback, no generated key)', () => {
    expect(() => loadConfig({ ...base, NODE_ENV: 'production' })).toThrow(/PAYLOAD_KEYS is required when NODE_ENV=production/);
    expect(() => loadConfig({ ...base, NODE_ENV: 'production', PAYLOAD_KEYS: 'k1:short' })).toThrow(/invalid configuration: PAYLOAD_KEYS/);
    expect(() => resolvePayloadKeys({ DATA_DIR: base.DATA_DIR, production: true, PAYLOAD_KEYS: undefined }, () => undefined)).toThrow(/PAYLOAD_KEYS is required/);
    expect(loadConfig({ ...base, NODE_ENV: 'production', PAYLOAD_KEYS: TEST_ONLY_KEY_1 }).production).toBe(true);
  });

  it('generates a key once under DATA_DIR (mode 0600), says so, and reuses it', () => {
    const DATA_DIR = join(mkdtempSync(join(tmpdir(), 'keys-')), 'data');
    const said: string[] = [];
    const first = resolvePayloadKeys({ DATA_DIR, production: false, PAYLOAD_KEYS: undefined }, (message) => said.push(message));
    const file = join(DATA_DIR, PAYLOAD_KEYS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(said.join('\n')).toMatch(/generated a payload encryption key in .*payload-keys \(mode 0600\)/);
    expect(said.join('\n')).not.toContain(first[0].key.toString('base64'));
    const second = resolvePayloadKeys({ DATA_DIR, production: false, PAYLOAD_KEYS: undefined }, (message) => said.push(message));
    expect(second[0].id).toBe(first[0].id);
    expect(second[0].key.equals(first[0].key)).toBe(true);
    expect(parsePayloadKeys(readFileSync(file, 'utf8').trim())[0].id).toBe(first[0].id);
  });

  it('refuses a key file others can read', () => {
    const DATA_DIR = mkdtempSync(join(tmpdir(), 'keys-open-'));
    writeFileSync(join(DATA_DIR, PAYLOAD_KEYS_FILE), `${TEST_ONLY_KEY_1}\n`);
    chmodSync(join(DATA_DIR, PAYLOAD_KEYS_FILE), 0o644);
    expect(() => resolvePayloadKeys({ DATA_DIR, production: false, PAYLOAD_KEYS: undefined }, () => undefined)).toThrow(/readable by others.*chmod 600/);
  });

  it('takes the codec server origin as an origin only', () => {
    expect(loadConfig(base).CODEC_CORS_ORIGIN).toBe('http://127.0.0.1:8233');
    expect(() => loadConfig({ ...base, CODEC_CORS_ORIGIN: 'http://ui.example/path' })).toThrow(/CODEC_CORS_ORIGIN: must be an origin/);
  });
});

describe('failure converter module', () => {
  it('loads with plain require (as the worker loads it) and encodes messages and stack traces', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { failureConverter } = require(failureConverterPath) as { failureConverter: { errorToFailure(error: unknown, converter: unknown): Record<string, unknown> } };
    const failure = failureConverter.errorToFailure(new Error(MARKER), defaultPayloadConverter);
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    expect(JSON.stringify(failure)).not.toContain(MARKER);
    expect(new AesGcmPayloadCodec(parsePayloadKeys(TEST_ONLY_KEY_1)).encryptingKeyId).toBe('test-only-k1');
  });
});
