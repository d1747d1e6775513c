import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'vitest';
import type { PendingDeadline } from '../../workflows/engine';
import type { RecordEntry } from '../../domain/record';

/** How late a deadline may fire on the time-skipping server (it fires in the task after the timer). */
export const TOLERANCE_MS = 60_000;

export const passed = (current: { record: RecordEntry[] }, name: string) =>
  current.record.filter((entry) => entry.type === 'deadline-passed' && entry.reason === name);

/** Every fired deadline fired within the tolerance of its due time, and none is left pending past it. */
export function expectNothingStalled(current: { record: RecordEntry[]; deadlines: PendingDeadline[] }, nowMs: number) {
  for (const entry of current.record.filter((candidate) => candidate.type === 'deadline-passed')) {
    expect(Date.parse(entry.at) - Date.parse(entry.dueAt!), `${entry.reason} fired late`).toBeLessThanOrEqual(TOLERANCE_MS);
  }
  for (const deadline of current.deadlines) expect(Date.parse(deadline.dueAt), `${deadline.name} stalled`).toBeGreaterThan(nowMs - TOLERANCE_MS);
}


/** The validator's refusal of an Update (an ApplicationFailure saying why), asserting it was refused. */
export async function refusalOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}
