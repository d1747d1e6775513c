/**
 * The project's activities (createActivities from activities/index.ts), with the two that
 * reach outside receivers (`notify`, `recordToCaseSystem`) wrapped so that they fail
 * while a generated "receiver down" window is on. Windows are in workflow time: the
 * attempt's scheduled time on the time-skipping server's clock, as the activity's info
 * gives it, so a window of days passes in seconds of real time.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities, type Activities } from '../../activities';
import { dataConverter } from '../../common/temporal';
import { assertBundleEncodesFailures } from '../../worker/worker';
import { testCodec } from '../support/payload-keys';
import { PROVOKED_FAILURE } from '../support/temporal';

export interface DownWindow {
  fromMs: number;
  untilMs: number;
}

/** What the receivers did, for the case report. */
export interface ReceiverLog {
  refused: number;
  delivered: number;
}

/** The switch the wrapped activities read: the current case's windows. */
export class Receivers {
  private windows: DownWindow[] = [];
  readonly log: ReceiverLog = { refused: 0, delivered: 0 };

  setWindows(windows: DownWindow[]): void {
    this.windows = [...windows];
  }

  /** Every receiver answers again (the end of a case). */
  clear(): void {
    this.windows = [];
  }

  isDown(atMs: number): boolean {
    return this.windows.some((window) => atMs >= window.fromMs && atMs < window.untilMs);
  }

  /** The project's activities, with outbound delivery failing inside a down window. */
  wrap(activities: Activities): Activities {
    const guard = <A extends unknown[], R>(name: string, inner: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const info = Context.current().info;
        // The server's (skipped) clock when this attempt was scheduled: workflow time.
        const at = info.currentAttemptScheduledTimestampMs || info.scheduledTimestampMs;
        if (this.isDown(at)) {
          this.log.refused += 1;
          throw new Error(`${name}: the receiver is down (a generated outage, ${PROVOKED_FAILURE}; attempt ${info.attempt} at ${new Date(at).toISOString()})`);
        }
        this.log.delivered += 1;
        return inner(...args);
      };
    return {
      ...activities,
      notify: guard('notify', activities.notify),
      recordToCaseSystem: guard('recordToCaseSystem', activities.recordToCaseSystem),
    };
  }
}

/** A worker on the time-skipping environment with the project's workflows and the wrapped activities. */
export async function workerWithReceivers(env: TestWorkflowEnvironment, receivers: Receivers): Promise<{ worker: Worker; taskQueue: string; outboxDir: string }> {
  const taskQueue = `properties-${randomUUID()}`;
  const outboxDir = mkdtempSync(join(tmpdir(), 'outbox-properties-'));
  const workflowBundle = { codePath: inject('workflowBundlePath') };
  await assertBundleEncodesFailures(workflowBundle);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
    activities: receivers.wrap(createActivities({ outbound: { outboxDir } })),
    dataConverter: dataConverter(testCodec()),
  });
  return { worker, taskQueue, outboxDir };
}
