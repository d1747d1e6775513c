import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { dataConverter } from '../../common/temporal';
import { testCodec } from '../support/payload-keys';

/**
 * Histories of complete runs recorded by earlier versions of the workflows
 * (`npm run record-histories`), replayed on today's code: a change that would break
 * running assessments fails here. Such a change goes behind `patched()`.
 */
// A replay worker per fixture logs each state change at INFO: hundreds of lines in CI's log.
Runtime.install({ logger: new DefaultLogger('WARN') });

const fixturesDir = resolve(__dirname, '..', 'fixtures', 'histories');
const fixtures = readdirSync(fixturesDir).filter((file) => file.endsWith('.json')).sort();

describe('replay of recorded histories', () => {
  it('has recorded histories of every workflow type to replay', () => {
    const kinds = new Set(fixtures.map((file) => file.split('.').at(-2)));
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['assessment', 'child-in-need-plan', 'referral', 'section-47-enquiry', 'strategy-discussion']));
    // A plan that continued as new (issue 13): each of its runs replays on its own (recorded
    // once; test/workflows/child-in-need-plan-continued.test.ts replays fresh runs too).
    expect(fixtures.filter((file) => file.startsWith('child-in-need-plan-continued-run-')).length).toBeGreaterThan(1);
  });

  it.each(fixtures)('replays %s without non-determinism', async (file) => {
    const { workflowId, history } = JSON.parse(readFileSync(join(fixturesDir, file), 'utf8')) as { workflowId: string; history: unknown };
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter(testCodec()) },
      temporal.api.history.v1.History.fromObject(history as Record<string, unknown>),
      workflowId,
    );
  });
});
