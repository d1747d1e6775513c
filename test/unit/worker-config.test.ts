import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/config';
import { maxCachedWorkflowsFromEnv, prebuiltWorkflowBundle } from '../../worker/worker';

describe('worker settings', () => {
  it('keeps at most 1,000 workflows in the sticky cache unless WORKER_MAX_CACHED_WORKFLOWS says otherwise, and refuses a nonsense value', () => {
    expect(maxCachedWorkflowsFromEnv({})).toBe(1000);
    expect(maxCachedWorkflowsFromEnv({ WORKER_MAX_CACHED_WORKFLOWS: '250' })).toBe(250);
    for (const bad of ['0', '-5', '2.5', 'lots', '1000000']) {
      expect(() => maxCachedWorkflowsFromEnv({ WORKER_MAX_CACHED_WORKFLOWS: bad }), bad).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
    }
  });
});

describe('the prebuilt workflow bundle (WORKFLOW_BUNDLE_PATH)', () => {
  it('from source none by default (the worker bundles at start-up); a path given is taken, absolute, and must exist', () => {
    expect(loadConfig({}).WORKFLOW_BUNDLE_PATH).toBeUndefined();
    expect(loadConfig({ WORKFLOW_BUNDLE_PATH: '' }).WORKFLOW_BUNDLE_PATH).toBeUndefined();
    expect(loadConfig({ WORKFLOW_BUNDLE_PATH: 'dist/workflow-bundle.js' }).WORKFLOW_BUNDLE_PATH).toBe(resolve('dist/workflow-bundle.js'));
    expect(prebuiltWorkflowBundle(undefined)).toBeUndefined();
    const bundle = join(mkdtempSync(join(tmpdir(), 'bundle-')), 'workflow-bundle.js');
    expect(() => prebuiltWorkflowBundle(bundle)).toThrow(/WORKFLOW_BUNDLE_PATH: no workflow bundle at .*npm run build/);
    writeFileSync(bundle, '');
    expect(prebuiltWorkflowBundle(bundle)).toEqual({ codePath: bundle });
  });
});
