import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureLocalSecret, loadApiConfig, localSecretFile } from '../../api/config';

describe('API configuration', () => {
  it('in production refuses to start without a JWKS URL or a secret, rather than make one up', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'api-config-'));
    const issued = { API_JWT_ISSUER: 'https://idp.example', API_JWT_AUDIENCE: 'assessments' };
    expect(() => loadApiConfig({ NODE_ENV: 'production', DATA_DIR: dataDir, ...issued })).toThrow(/API_JWKS_URL/);
    // Empty variables, as compose passes them, count as unset.
    expect(() => loadApiConfig({ NODE_ENV: 'production', DATA_DIR: dataDir, API_JWKS_URL: '', API_JWT_SECRET: '', ...issued })).toThrow(/API_JWKS_URL/);
    expect(loadApiConfig({ NODE_ENV: 'production', DATA_DIR: dataDir, API_JWKS_URL: '', API_JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters', ...issued }).auth).toMatchObject({ mode: 'secret' });
  });

  it('needs issuer and audience with a JWKS URL', () => {
    expect(() => loadApiConfig({ API_JWKS_URL: 'https://idp.example/jwks' })).toThrow(/API_JWT_ISSUER and API_JWT_AUDIENCE/);
    expect(loadApiConfig({ API_JWKS_URL: 'https://idp.example/jwks', API_JWT_ISSUER: 'https://idp.example', API_JWT_AUDIENCE: 'assessments' }).auth).toMatchObject({ mode: 'jwks' });
  });

  it('outside production generates a local secret once, readable by its owner only', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'api-config-'));
    const first = loadApiConfig({ DATA_DIR: dataDir });
    const second = loadApiConfig({ DATA_DIR: dataDir });
    expect(first.auth).toEqual(second.auth);
    expect(statSync(first.localSecretFile!).mode & 0o777).toBe(0o600);
  });

  it('refuses an existing local secret file others can read, or one too short to sign with', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'api-config-'));
    const file = localSecretFile(dataDir);
    writeFileSync(file, `${'s'.repeat(43)}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(() => loadApiConfig({ DATA_DIR: dataDir })).toThrow(/api-jwt-secret is readable by others \(mode 644\): run chmod 600/);
    chmodSync(file, 0o640);
    expect(() => ensureLocalSecret(file)).toThrow(/readable by others \(mode 640\)/);
    chmodSync(file, 0o600);
    expect(ensureLocalSecret(file)).toBe('s'.repeat(43));
    writeFileSync(file, '\n');
    expect(() => ensureLocalSecret(file)).toThrow(/holds 0 characters: a local token secret needs at least 32/);
  });

  it('names the setting that is wrong', () => {
    expect(() => loadApiConfig({ API_JWT_SECRET: 'short' })).toThrow(/API_JWT_SECRET must be at least 32 characters/);
  });
});
