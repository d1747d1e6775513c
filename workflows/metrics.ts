/**
 * The engine's one workflow-side metric: how late a deadline fired. It goes through the
 * SDK's workflow `metricMeter`, which emits only when the workflow is not replaying and
 * creates no command: a replay records nothing twice and history is unchanged, so no
 * `patched()` is needed. The worker's Runtime exports it with Core's own metrics
 * (worker/telemetry.ts), as `assessments_deadline_lag_seconds` (Core prefixes only its own
 * metrics with `temporal_`), labelled `deadline` (the kind), `namespace`, `taskQueue` and `workflowType`.
 */
import { metricMeter } from '@temporalio/workflow';

export const DEADLINE_LAG_METRIC = 'assessments_deadline_lag_seconds';

/**
 * The deadline's kind as a label: the part of its name before the first ':' (names such as
 * `agency-reply:<agencyRef>` or `prompt:<promptId>` carry an id after it; an id in a label
 * would make a series per case).
 */
export function deadlineKind(name: string): string {
  const kind = name.split(':')[0] ?? '';
  return /^[a-z][a-z0-9-]{0,47}$/.test(kind) ? kind : 'other';
}

/**
 * Records, when a deadline fires, how long after it became due it did: workflow time now
 * (the workflow task's start) minus the later of its due time and when it was set. A
 * deadline set already past due (a back-dated referral) became due to the engine when it
 * was set: counting from its due time would report the back-dating as the worker's lag
 * and page someone for it.
 */
export function recordDeadlineLag(name: string, deadline: { at: number; setAt: number }): void {
  // Around a worker restart a task can carry an earlier time than a timer that fired (the
  // engine's clock floor): that deadline was not late. A histogram refuses negatives.
  const lagSeconds = Math.max(0, Date.now() - Math.max(deadline.at, deadline.setAt)) / 1000;
  if (!Number.isFinite(lagSeconds)) return;
  try {
    metricMeter.createHistogram(DEADLINE_LAG_METRIC, 'float', 's', 'how long after it became due a deadline fired').record(lagSeconds, { deadline: deadlineKind(name) });
  } catch {
    // A metric must never fail a workflow task.
  }
}
