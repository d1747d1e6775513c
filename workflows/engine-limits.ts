/**
 * What one workflow run takes and keeps: the write limits that stop a sender freezing or
 * ending a case, and the bounds at which a long-lived run continues as new with what it
 * carries over (issue 13).
 */
import type { KeyedAnswer } from './messages';
import type { Prompt, PromptKind } from '../domain/prompts';
import type { RecordEntry } from '../domain/record';

/**
 * When a run hands over to a new one: the first bound reached. A workflow outside the
 * worker's cache replays its whole history before it answers, so the bound keeps that
 * replay short; and it keeps a run far under Temporal's own limits (2,000 updates a run,
 * 51,200 events or 50 MB) and under EVENT_WRITE_LIMITS.perRun.
 */
export const CONTINUE_AS_NEW_AT: Readonly<ContinueAsNewBounds> = {
  historyEvents: 2_000,
  historyBytes: 4 * 1024 * 1024,
  eventsReceived: 800,
};

export interface ContinueAsNewBounds {
  historyEvents: number;
  historyBytes: number;
  /** Events taken through the handlers in this run (EVENT_WRITE_LIMITS.perRun refuses more at 1,000). */
  eventsReceived: number;
}

/**
 * What a hand-over carries at most: the carry-over is one payload, and Temporal refuses a
 * payload over 2 MB (the run could not continue). A case system that sent events at the
 * hourly limit for weeks would pass that with everything carried. Entries of the record
 * left behind stay in the earlier runs' histories (the timeline reads them); event ids are
 * kept for the most recent events, far more than any sender retries across.
 */
export const CARRY_OVER_LIMITS = { recordEntries: 1_000, eventIds: 5_000 } as const;

/**
 * What the engine hands to the run it continues as: everything it keeps but the
 * workflow's own state. Deadlines are listed by name so that the next run can be checked
 * to have set every one again (their effects are the workflow's code, not data).
 */
export interface EngineCarryOver {
  prompts: Prompt[];
  record: RecordEntry[];
  seenEventIds: string[];
  recentEventTimes: number[];
  promptSequence: Array<[PromptKind, number]>;
  keyedAnswers: Array<[string, KeyedAnswer]>;
  failingDeliveries: number;
  decisionsNotBefore?: number;
  clockFloor: number;
  deadlines: Array<{ name: string; at: number; setAt: number }>;
  /** Runs before this one (1 for the first continuation). */
  runsBefore: number;
  /** Entries of the record left in earlier runs' histories (CARRY_OVER_LIMITS). */
  recordEntriesInEarlierRuns?: number;
}

/** How a workflow continues as new: it builds its input from the engine's carry-over and its own state, then calls `continueAsNew`. */
export type ContinueAsNew = (carryOver: EngineCarryOver) => Promise<never>;

/**
 * What one workflow run takes through the `recordEvent` update, so that no sender can
 * freeze a case (Temporal refuses every update once a run has had 2,000,
 * `history.maxTotalUpdates`, decisions included) or end it (a run whose history passes
 * 51,200 events or 50 MB is terminated by the server). Refused updates are not written;
 * each has its own failure type, which the API answers with 429 or 503 and the reason.
 */
export const EVENT_WRITE_LIMITS = {
  /**
   * Events a case takes in any rolling hour (`too-many-events`, 429). Social workers and
   * case systems record a handful of events a day per child; a case system catching up
   * after an outage or migrating a case sends tens at once. 120 an hour is far above that,
   * and far below what a runaway sender would do.
   */
  perHour: 120,
  /**
   * Events one run takes in all (`event-limit-reached`, 503). A 45-working-day assessment
   * with its review window records tens, at most a few hundred; 1,000 keeps the events
   * under half of Temporal's 2,000 updates per run, so decisions always have room.
   */
  perRun: 1000,
  /**
   * A run whose history has grown past these (80% of Temporal's default hard limits, which
   * terminate the run) takes no more events (`history-full`, 503) until it is continued as
   * new (a child in need plan continues itself well before: CONTINUE_AS_NEW_AT): a case is never ended by what is sent to it.
   */
  historyEvents: 40_960,
  historyBytes: 40 * 1024 * 1024,
} as const;
