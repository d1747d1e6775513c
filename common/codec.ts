import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Payload encryption: every payload the worker, the API's client and the tests hand to
 * Temporal (workflow inputs and results, signal and update arguments, activity inputs
 * and results, failure messages and stack traces) is sealed with AES-256-GCM before it
 * leaves the process, so the Temporal database holds ciphertext only.
 *
 * Format: metadata `encoding: binary/encrypted`, `encryption-key-id: <id>`,
 * `encryption-cipher: AES-256-GCM`; data = 12-byte IV (fresh per payload) || ciphertext
 * || 16-byte tag. The plaintext is the whole original Payload (metadata and data,
 * protobuf-encoded), and the key id is bound into the tag as additional authenticated
 * data, so neither the ciphertext nor the key id can be changed unnoticed.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_CIPHER = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;
/** Key ids go into every payload's metadata in clear: short, and nothing but a label. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface PayloadKey {
  id: string;
  key: Buffer;
}

/** The configured keys: the first encrypts, every one decrypts (rotation). */
export type PayloadKeyRing = readonly [PayloadKey, ...PayloadKey[]];

/** A payload that cannot be decrypted: a key that is not configured, or tampered data. */
export class PayloadDecryptionError extends ValueError {}

const utf8 = (text: string) => new TextEncoder().encode(text);
const fromUtf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function aad(keyId: string): Buffer {
  return Buffer.from(`${ENCRYPTED_ENCODING}\n${CIPHER}\n${keyId}`, 'utf8');
}

export interface CodecOptions {
  /**
   * Refuse, on decode, a payload that is not encrypted (production): otherwise anyone who
   * can write to the namespace could hand the workflows data the keys never sealed.
   * Off, unencrypted payloads (histories from before encryption) are read as they are.
   */
  refusePlaintext?: boolean;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly encryptingKeyId: string;
  readonly refusePlaintext: boolean;
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly encryptingKey: Buffer;

  constructor(ring: PayloadKeyRing, options: CodecOptions = {}) {
    this.refusePlaintext = options.refusePlaintext ?? false;
    const keys = new Map<string, Buffer>();
    for (const { id, key } of ring) {
      if (!KEY_ID_PATTERN.test(id)) throw new ValueError(`payload key id '${id}' may hold only letters, digits, '.', '_' and '-' (1 to 64)`);
      if (key.length !== KEY_BYTES) throw new ValueError(`payload key '${id}' must be ${KEY_BYTES} bytes (AES-256), not ${key.length}`);
      if (keys.has(id)) throw new ValueError(`payload key id '${id}' is configured twice`);
      keys.set(id, Buffer.from(key));
    }
    this.keys = keys;
    this.encryptingKeyId = ring[0].id;
    this.encryptingKey = keys.get(ring[0].id) as Buffer;
  }

  /** The ids of every key this codec can decrypt with, the encrypting one first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encryptOne(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decryptOne(payload));
  }

  private encryptOne(payload: Payload): Payload {
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptingKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(this.encryptingKeyId));
    const sealed = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
        [METADATA_KEY_ID]: utf8(this.encryptingKeyId),
        [METADATA_CIPHER]: utf8(CIPHER),
      },
      data: new Uint8Array(sealed),
    };
  }

  private decryptOne(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    // Payloads written before encryption was switched on (or by the server itself) pass
    // through unchanged, so that older histories stay readable; production refuses them.
    if (!encoding || fromUtf8(encoding) !== ENCRYPTED_ENCODING) {
      if (this.refusePlaintext) {
        throw new PayloadDecryptionError(`refused a payload that is not encrypted (encoding '${encoding ? fromUtf8(encoding) : 'none'}'): in production every payload must be sealed by the payload codec`);
      }
      return payload;
    }
    const keyIdBytes = payload.metadata?.[METADATA_KEY_ID];
    if (!keyIdBytes) throw new PayloadDecryptionError(`an encrypted payload has no '${METADATA_KEY_ID}' metadata: cannot tell which key sealed it`);
    const keyId = fromUtf8(keyIdBytes);
    const cipherName = payload.metadata?.[METADATA_CIPHER];
    if (cipherName && fromUtf8(cipherName) !== CIPHER) {
      throw new PayloadDecryptionError(`payload encrypted with key id '${keyId}' uses cipher '${fromUtf8(cipherName)}'; only ${CIPHER} is supported`);
    }
    const key = this.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        // Only the id the payload itself carries: errors reach the codec server's callers,
        // who need not learn which keys this process holds.
        `cannot decrypt payload: it was encrypted with key id '${keyId}', which is not in PAYLOAD_KEYS; ` +
          `add that key back (after the encrypting one) to read this history`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`payload encrypted with key id '${keyId}' is truncated (${data.length} bytes)`);
    const iv = data.subarray(0, IV_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const ciphertext = data.subarray(IV_BYTES, data.length - TAG_BYTES);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(keyId));
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`payload encrypted with key id '${keyId}' failed authentication: it was altered, or the key with that id is not the one that sealed it`);
    }
    return temporal.api.common.v1.Payload.decode(plaintext);
  }
}

/**
 * Parses `id:base64key[,id:base64key...]`. Messages name the entry's position and id,
 * never the key material.
 */
export function parsePayloadKeys(text: string): PayloadKeyRing {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new ValueError('PAYLOAD_KEYS is empty: give at least one id:base64key');
  const ring: PayloadKey[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const where = `PAYLOAD_KEYS entry ${index + 1}`;
    if (colon <= 0) throw new ValueError(`${where} must be id:base64key`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID_PATTERN.test(id)) throw new ValueError(`${where}: the key id may hold only letters, digits, '.', '_' and '-' (1 to 64 characters)`);
    if (seen.has(id)) throw new ValueError(`${where}: key id '${id}' appears twice`);
    seen.add(id);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) throw new ValueError(`${where} (key id '${id}'): the key is not valid base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) throw new ValueError(`${where} (key id '${id}'): the key must be ${KEY_BYTES} random bytes (AES-256), not ${key.length}`);
    ring.push(secretKey(id, key));
  });
  return ring as unknown as PayloadKeyRing;
}

/**
 * A key whose material is not enumerable: logging or serializing the configuration
 * (JSON.stringify, util.inspect, a logger) shows the id only.
 */
export function secretKey(id: string, key: Buffer): PayloadKey {
  const entry = { id } as PayloadKey;
  Object.defineProperty(entry, 'key', { value: key, enumerable: false });
  return entry;
}

/** The inverse of parsePayloadKeys (for writing a generated key file). */
export function formatPayloadKeys(ring: readonly PayloadKey[]): string {
  return ring.map(({ id, key }) => `${id}:${key.toString('base64')}`).join(',');
}
