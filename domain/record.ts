/**
 * The record of an assessment: every event and decision that reached the workflow, in
 * order, including those it rejected (with the reason): nothing is silently dropped.
 */
export interface RecordEntry {
  /** Workflow time when the entry was made. */
  at: string;
  source: 'event' | 'decision' | 'engine';
  /** Event type, decision value, or what the engine did (e.g. 'deadline-passed'). */
  type: string;
  /** eventId or promptId. */
  ref?: string;
  actor?: string;
  /** Who sent the event, when a system sent it on behalf of `actor` (from the caller's token). */
  submittedBy?: string;
  /** The event was dated further back than a person may date one (only a system may). */
  backdated?: boolean;
  status: 'applied' | 'rejected';
  reason?: string;
  /** The process rule this entry concerns, e.g. 'R-12'. */
  rule?: string;
  occurredAt?: string;
  recordedAt?: string;
  /** recorded later than the policy allows. */
  lateRecording?: boolean;
  /** For a deadline that passed: when it was due (the entry's `at` is when it fired). */
  dueAt?: string;
}
