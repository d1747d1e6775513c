import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, log, startDevServer, startTestServer, type RunningServer } from '../scripts/temporal';
import { startPostgresEngine } from '../scripts/temporal-postgres';
import { bundleWorkflows, workflowsPath } from '../worker/worker';
import { lockTimeSkipping } from './support/temporal';

declare module 'vitest' {
  export interface ProvidedContext {
    devServerAddress: string;
    testServerAddress: string;
    workflowBundlePath: string;
  }
}

/**
 * Starts the real servers once for the whole run: the dev server (Temporal CLI, in
 * memory) and the time-skipping test server (Java). A missing server fails the run.
 * TEMPORAL_ENGINE=postgres puts the production engine (Temporal server on PostgreSQL 15,
 * a throwaway database: scripts/temporal-postgres.ts) where the dev server would be, for
 * every suite that uses the dev server (`npm run test:postgres` runs test/api and test/e2e).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers: RunningServer[] = [];
  const engine = process.env.TEMPORAL_ENGINE ?? 'dev';
  if (engine !== 'dev' && engine !== 'postgres') throw new Error(`TEMPORAL_ENGINE=${engine}: expected dev (the default) or postgres`);
  if (engine === 'postgres') log('tests: TEMPORAL_ENGINE=postgres, the suites that use the dev server run on Temporal with PostgreSQL');
  const devServer = engine === 'postgres' ? await startPostgresEngine({ ephemeral: true, port: await freePort() }) : await startDevServer({});
  servers.push(devServer);
  const testServer = await startTestServer({});
  servers.push(testServer);
  await lockTimeSkipping(testServer.address);
  // One workflow bundle for every test file: bundling takes seconds. Built like the
  // worker's own, with the project's failure converter in the sandbox.
  const { code } = await bundleWorkflows({ workflowsPath });
  const bundlePath = join(mkdtempSync(join(tmpdir(), 'assessment-bundle-')), 'workflows.js');
  writeFileSync(bundlePath, code);
  project.provide('devServerAddress', devServer.address);
  project.provide('testServerAddress', testServer.address);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
}
