import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AesGcmPayloadCodec, formatPayloadKeys, KEY_BYTES, parsePayloadKeys, type PayloadKeyRing } from './codec';
import type { AppConfig } from './config';

export const PAYLOAD_KEYS_FILE = 'payload-keys';

type KeyConfig = Pick<AppConfig, 'PAYLOAD_KEYS' | 'DATA_DIR' | 'production'>;

/**
 * The payload keys this process uses: PAYLOAD_KEYS when set. Otherwise — only outside
 * production (loadConfig refuses a production start without keys) — a key generated once
 * under DATA_DIR (mode 0600) and reused by every later start, so that the embedded
 * default's histories stay readable across restarts.
 */
export function resolvePayloadKeys(config: KeyConfig, say: (message: string) => void = (message) => process.stderr.write(`${message}\n`)): PayloadKeyRing {
  if (config.PAYLOAD_KEYS) return config.PAYLOAD_KEYS;
  if (config.production) throw new Error('PAYLOAD_KEYS is required when NODE_ENV=production');
  const file = join(config.DATA_DIR, PAYLOAD_KEYS_FILE);
  mkdirSync(config.DATA_DIR, { recursive: true, mode: 0o700 });
  const generated = formatPayloadKeys([{ id: `local-${randomBytes(4).toString('hex')}`, key: randomBytes(KEY_BYTES) }]);
  let generatedNow = false;
  try {
    // 'wx': if the worker and the API start together, one writes and the other reads.
    writeFileSync(file, `${generated}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
    generatedNow = true;
    say(`[keys] PAYLOAD_KEYS is not set: generated a payload encryption key in ${file} (mode 0600). Keep that file: histories written with it cannot be read without it. Production sets PAYLOAD_KEYS.`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const mode = statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by others (mode ${mode.toString(8)}): run chmod 600 on it`);
  }
  let ring: PayloadKeyRing;
  try {
    ring = parsePayloadKeys(readFileSync(file, 'utf8').trim());
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  if (!generatedNow) say(`[keys] PAYLOAD_KEYS is not set: using the payload encryption key '${ring[0].id}' from ${file}`);
  return ring;
}

/** The payload codec for this process's configuration: production refuses unencrypted payloads. */
export function payloadCodecFromConfig(config: KeyConfig, say?: (message: string) => void): AesGcmPayloadCodec {
  return new AesGcmPayloadCodec(resolvePayloadKeys(config, say), { refusePlaintext: config.production });
}
