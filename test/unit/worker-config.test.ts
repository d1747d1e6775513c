import { describe, expect, it } from 'vitest';
import { maxCachedWorkflowsFromEnv } from '../../worker/worker';

describe('worker settings', () => {
  it('keeps at most 1,000 workflows in the sticky cache unless WORKER_MAX_CACHED_WORKFLOWS says otherwise, and refuses a nonsense value', () => {
    expect(maxCachedWorkflowsFromEnv({})).toBe(1000);
    expect(maxCachedWorkflowsFromEnv({ WORKER_MAX_CACHED_WORKFLOWS: '250' })).toBe(250);
    for (const bad of ['0', '-5', '2.5', 'lots', '1000000']) {
      expect(() => maxCachedWorkflowsFromEnv({ WORKER_MAX_CACHED_WORKFLOWS: bad }), bad).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
    }
  });
});
