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

