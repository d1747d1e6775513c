import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The production-like stack's settings that least privilege rests on (docker-compose.yml).
 * No compose client runs here (CI validates the file where one exists), so this reads each
 * service's block of the file as text.
 */
const compose = readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8');

function service(name: string): string {
  const lines = compose.split('\n');
  const start = lines.indexOf(`  ${name}:`);
  expect(start, `service ${name}`).toBeGreaterThan(-1);
  const end = lines.findIndex((line, index) => index > start && /^ {0,2}\S/.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

describe('docker-compose.yml', () => {
  it('the Web UI is read only and signs users in with OIDC, passing their token to the codec server', () => {
    const ui = service('temporal-ui');
    expect(ui).toMatch(/^\s+TEMPORAL_DISABLE_WRITE_ACTIONS: "true"$/m);
    expect(ui).toMatch(/^\s+TEMPORAL_AUTH_ENABLED: "true"$/m);
    expect(ui).toMatch(/^\s+TEMPORAL_AUTH_TYPE: oidc$/m);
    // Required: compose refuses to start without the identity provider.
    for (const variable of ['TEMPORAL_AUTH_PROVIDER_URL', 'TEMPORAL_AUTH_CLIENT_ID', 'TEMPORAL_AUTH_CLIENT_SECRET']) {
      expect(ui).toMatch(new RegExp(`^\\s+${variable}: \\$\\{${variable}:\\?`, 'm'));
    }
    expect(ui).toMatch(/^\s+TEMPORAL_CODEC_PASS_ACCESS_TOKEN: "true"$/m);
    // The UI passes the token to an https codec endpoint only: its address is required, not a local http default.
    expect(ui).toMatch(/^\s+TEMPORAL_CODEC_ENDPOINT: \$\{CODEC_ENDPOINT_URL:\?[^}]*https/m);
    expect(ui).not.toMatch(/TEMPORAL_CODEC_ENDPOINT: http:/);
  });

  it('the audit log lives on a volume of its own', () => {
    const api = service('api');
    expect(api).toMatch(/^\s+AUDIT_LOG_FILE: \/audit\/audit\.log$/m);
    expect(api).toMatch(/^\s+- audit:\/audit$/m);
    const topLevelVolumes = compose.slice(compose.search(/^volumes:$/m));
    expect(topLevelVolumes).toMatch(/^volumes:\n(?: {2}\S+:\n)* {2}audit:$/m);
  });

  it('the worker has no local outbox: it needs the https webhook and its secret', () => {
    const worker = service('worker');
    expect(worker).toMatch(/^\s+OUTBOUND_WEBHOOK_URL: \$\{OUTBOUND_WEBHOOK_URL:\?/m);
    expect(worker).toMatch(/^\s+OUTBOUND_WEBHOOK_SECRET: \$\{OUTBOUND_WEBHOOK_SECRET:\?/m);
    expect(compose).not.toMatch(/outbox:\/data/);
    // The API sends nothing, so it does not hold the webhook secret.
    expect(service('api')).not.toMatch(/OUTBOUND_WEBHOOK_SECRET/);
  });

  it('the worker and the API run the compiled build with node, not TypeScript through tsx', () => {
    for (const [name, main] of [['worker', 'dist/worker/main.js'], ['api', 'dist/api/main.js']] as const) {
      const block = service(name);
      expect(block).toMatch(/^\s+build: \.$/m);
      expect(block, name).toContain(`command: ["node", "${main}"]`);
      expect(block, name).not.toMatch(/tsx|\.ts"/);
    }
    const dockerfile = readFileSync(join(__dirname, '..', '..', 'Dockerfile'), 'utf8');
    // The runtime stage (the last): production dependencies and the build's output, run by node.
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^RUN npm ci --omit=dev/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/worker\/main\.js"\]$/m);
    expect(runtime).not.toMatch(/tsx/);
    // The build stage builds it.
    expect(dockerfile.slice(0, dockerfile.lastIndexOf('\nFROM '))).toMatch(/^RUN npm run build$/m);
  });
});
