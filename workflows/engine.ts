/**
 * The mechanics every workflow of an assessment shares: its prompts, its record, event
 * de-duplication, the message handlers (event, managerDecision, decide, state,
 * openPrompts), a deadline scheduler and a queue of outside work (activities, child
 * workflows) that handlers fill and the main loop starts.
 *
 * Handlers are synchronous and only change state; anything that looks outside is queued
 * and started by the main loop. Since the deadline-integrity change (`integrity`, behind
 * `patched()`), queued work runs concurrently, each job on its own (in order per key,
 * e.g. per recipient), so a receiver that is down never holds up a deadline, a prompt or
 * a child workflow; every prompt carries a due time and is a deadline of its own. Cases
 * started before the change replay the old, sequential loop unchanged.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  patched,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { domainEventSchema, type DomainEvent } from '../domain/events';
import { promptIdFor, type IdScheme } from '../domain/ids';
import { allowedDecisions, checkDecision, decidedAtRefusal, idempotencyKeyReusedMessage, toIssues, type AnyDecision, type DecisionCheck, type Prompt, type PromptKind } from '../domain/prompts';
import type { RecordEntry } from '../domain/record';
import { openPromptsDueEntries } from '../domain/prompt-due';
import { FailingDeliveriesKey, OpenPromptKindsKey, OpenPromptsDueKey } from './search-attributes';
import { recordDeadlineLag } from './metrics';
import {
  decideUpdate,
  eventSignal,
  managerDecisionSignal,
  OPEN_PROMPTS_MEMO,
  openPromptsQuery,
  recordEventUpdate,
  stateQuery,
  type DecisionAccepted,
  type DecisionRequestKey,
  type EventRecorded,
  keyedAnswerQuery,
  type KeyedAnswer,
  type RecordedDecision,
} from './messages';

import {
  CENSUS_MEASURES_PATCH,
  COLLISION_FREE_IDS_PATCH,
  CONTINUE_AS_NEW_PATCH,
  DEADLINE_INTEGRITY_PATCH,
  OPEN_PROMPTS_DUE_PATCH,
  OPEN_PROMPTS_MEMO_PATCH,
  OUTCOMES_FOLLOW_ON_PATCH,
  PROCEDURE_CHECKS_PATCH,
  QUIET_ENGINE_PATCH,
} from './engine-patches';
import { CARRY_OVER_LIMITS, CONTINUE_AS_NEW_AT, EVENT_WRITE_LIMITS, type ContinueAsNew, type ContinueAsNewBounds, type EngineCarryOver } from './engine-limits';

export * from './engine-patches';
export * from './engine-limits';

/** What an event handler says about an event: applied (optionally under a rule) or rejected with the reason. */
export type EventVerdict = { rejected: string; rule?: string } | { rule?: string; lateRecording?: boolean } | void;

export interface EngineHandlers {
  /**
   * Why this valid event cannot be taken now (it does not fit the stage, a rule refuses
   * it), without changing anything; undefined when it can. The `recordEvent` update's
   * validator asks this, so a refused event is answered as refused and leaves no trace
   * (its eventId stays free for a corrected resend).
   */
  refuseEvent?(event: DomainEvent): { rejected: string; rule?: string } | undefined;
  /** Applies a valid, first-seen event to the state. */
  onEvent(event: DomainEvent): EventVerdict;
  /** Applies an accepted decision (its prompt is already closed as answered). */
  onDecision(prompt: Prompt, decision: AnyDecision): void;
  /** The workflow's state, as the `state` query returns it. */
  state(): unknown;
  /** The workflow's search attributes; upserted when they change. */
  searchAttributes?(): SearchAttributeUpdatePair[];
  /**
   * Optional check of a well-formed decision against the workflow's own state (e.g. a
   * checklist the record contradicts): returns the reason to refuse it, or undefined.
   * Runs in the update's validator and in the signal handler; a refusal has the code
   * `invalid-decision`.
   */
  validateDecision?(prompt: Prompt, decision: AnyDecision): string | undefined;
}

interface Deadline {
  at: number;
  /** Workflow time when it was set (or moved): a deadline set already past due is late from then, not from `at`. */
  setAt: number;
  fire: () => void;
}


const HOUR_MS = 3_600_000;

/** How the engine learns a case's time rules (set by each workflow once its calendar is known). */
export interface PromptTiming {
  /** The default due time of a prompt raised at `raisedAtMs` without one of its own. */
  defaultDueBy(raisedAtMs: number): number;
  /** Called when an open prompt's due time passes unanswered (not for prompts whose workflow escalates them itself). */
  onOverdue(prompt: Prompt): void;
}

/** A pending deadline as the state shows it. */
export interface PendingDeadline {
  name: string;
  dueAt: string;
}


export class CaseEngine {
  readonly workflowId = workflowInfo().workflowId;
  readonly prompts: Prompt[] = [];
  readonly record: RecordEntry[] = [];
  private readonly seenEventIds = new Set<string>();
  /** When each event (new eventId) reached this run in the last hour, oldest first; and how many in all. */
  private readonly recentEventTimes: number[] = [];
  private eventsReceived = 0;
  private readonly promptSequence = new Map<PromptKind, number>();
  private readonly deadlines = new Map<string, Deadline>();
  private readonly jobs: Array<() => Promise<void>> = [];
  private readonly urgentJobs: Array<() => Promise<void>> = [];
  private wake = false;
  private lastSearchAttributes = '';
  /**
   * true for cases started after the deadline-integrity change: outside work runs
   * concurrently, prompts always have due times, refused events do not use up their ids.
   * Read once, at the start, so a case keeps the behaviour it started with.
   */
  readonly integrity: boolean;
  /** Since the census-measures patch: the sign-off asks for the census items, and the census durations are search attributes. */
  readonly censusMeasures: boolean;
  /** Since the procedure-checks patch: the second reading's events, prompts, checklist items and deadlines (workflows/assessment-checks.ts). */
  readonly procedureChecks: boolean;
  /** Since the outcomes-follow-on patch: outcome consistency at sign-off, child in need plans, emergency action, specialist assessments. */
  readonly outcomesFollowOn: boolean;
  /** Started since QUIET_ENGINE_PATCH: every patch before it holds, with one marker for them all. */
  readonly quiet: boolean;
  /**
   * How this case builds the ids of the child workflows it starts. Carried from the
   * referral when given (one case, one form: a case started before the change starts its
   * children with hyphenated ids even after it), else read once at the start like
   * `integrity`: cases started before the change replay with the ids they had.
   */
  readonly idScheme: IdScheme;
  /** Jobs started and not yet finished (integrity mode). */
  private inFlight = 0;
  /** The tail of each ordered chain of jobs, by key (e.g. a recipient). */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly keyedJobs: Array<{ key?: string; job: () => Promise<void> }> = [];
  private readonly urgentKeyedJobs: Array<{ key?: string; job: () => Promise<void> }> = [];
  private timing?: PromptTiming;
  /** The earliest a decision may be dated (the referral's receipt). */
  private decisionsNotBefore?: number;
  /** Deliveries that have failed and not (yet) gone through: an operations alert. */
  failingDeliveries = 0;

  /** Prompts answered by a request that carried an Idempotency-Key: the key, the request's hash and the answer. */
  private readonly keyedAnswers = new Map<string, KeyedAnswer>();

  /** Whether this case keeps the OpenPromptsDue search attribute (read once at the start, like `integrity`). */
  private readonly promptsDueAttribute: boolean;
  /** Whether this case keeps its open prompts in its memo (read once at the start). */
  private readonly promptsMemo: boolean;
  /** Quiet loop: the due time of the earliest timer armed and not yet fired. */
  private armedTimerAt?: number;
  /** The open prompts as last written to the memo: nothing is written until the first prompt opens. */
  private lastPromptsMemo = '[]';

  /** What the run before this one handed over (continue-as-new), until `run` has checked the deadlines were set again. */
  private carriedOver?: EngineCarryOver;
  /** Runs of this workflow before this one. */
  readonly runsBefore: number;

  /** Entries of the case's record left in earlier runs' histories when it continued as new. */
  recordEntriesInEarlierRuns = 0;
  private readonly carryOverLimits: { recordEntries: number; eventIds: number };

  constructor(
    options: {
      idScheme?: IdScheme;
      carriedOver?: EngineCarryOver;
      continueAsNewAt?: Partial<ContinueAsNewBounds>;
      carryOverLimits?: Partial<{ recordEntries: number; eventIds: number }>;
    } = {},
  ) {
    // A case started since QUIET_ENGINE_PATCH records that one marker; one started before
    // it replays the markers it recorded, one by one, in the order it recorded them.
    this.quiet = patched(QUIET_ENGINE_PATCH);
    this.runsBefore = options.carriedOver?.runsBefore ?? 0;
    this.continueAsNewAt = { ...CONTINUE_AS_NEW_AT, ...options.continueAsNewAt };
    this.carryOverLimits = { ...CARRY_OVER_LIMITS, ...options.carryOverLimits };
    if (options.carriedOver) this.takeOver(options.carriedOver);
    const since = (patchId: string) => this.since(patchId);
    this.integrity = since(DEADLINE_INTEGRITY_PATCH);
    this.censusMeasures = since(CENSUS_MEASURES_PATCH);
    this.procedureChecks = since(PROCEDURE_CHECKS_PATCH);
    this.outcomesFollowOn = since(OUTCOMES_FOLLOW_ON_PATCH);
    const collisionFree = since(COLLISION_FREE_IDS_PATCH);
    this.idScheme = options.idScheme ?? (collisionFree ? 'collision-free' : 'hyphenated');
    this.promptsDueAttribute = since(OPEN_PROMPTS_DUE_PATCH);
    this.promptsMemo = since(OPEN_PROMPTS_MEMO_PATCH);
  }

  private readonly continueAsNewAt: ContinueAsNewBounds;

  /** Takes what the run before handed over; open prompts that were still watched are watched again. */
  private takeOver(carried: EngineCarryOver): void {
    this.carriedOver = carried;
    this.prompts.push(...carried.prompts);
    this.record.push(...carried.record);
    this.recordEntriesInEarlierRuns = carried.recordEntriesInEarlierRuns ?? 0;
    for (const eventId of carried.seenEventIds) this.seenEventIds.add(eventId);
    this.recentEventTimes.push(...carried.recentEventTimes);
    for (const [kind, sequence] of carried.promptSequence) this.promptSequence.set(kind, sequence);
    for (const [promptId, answer] of carried.keyedAnswers) this.keyedAnswers.set(promptId, answer);
    this.failingDeliveries = carried.failingDeliveries;
    this.decisionsNotBefore = carried.decisionsNotBefore;
    this.clockFloor = carried.clockFloor;
    const watched = new Set(carried.deadlines.map((deadline) => deadline.name));
    for (const prompt of this.openPrompts()) if (watched.has(promptDeadline(prompt))) this.watchPrompt(prompt);
  }

  /** What this run hands to the next (see EngineCarryOver). */
  carryOver(): EngineCarryOver {
    const recordLeft = Math.max(0, this.record.length - this.carryOverLimits.recordEntries);
    return {
      prompts: this.prompts,
      record: this.record.slice(recordLeft),
      recordEntriesInEarlierRuns: this.recordEntriesInEarlierRuns + recordLeft,
      // A Set keeps insertion order: the most recent ids are the last.
      seenEventIds: [...this.seenEventIds].slice(-this.carryOverLimits.eventIds),
      recentEventTimes: this.recentEventTimes,
      promptSequence: [...this.promptSequence.entries()],
      keyedAnswers: [...this.keyedAnswers.entries()],
      failingDeliveries: this.failingDeliveries,
      ...(this.decisionsNotBefore !== undefined ? { decisionsNotBefore: this.decisionsNotBefore } : {}),
      clockFloor: this.clockFloor,
      deadlines: [...this.deadlines.entries()].map(([name, deadline]) => ({ name, at: deadline.at, setAt: deadline.setAt })),
      runsBefore: this.runsBefore + 1,
    };
  }

  /**
   * A continued run must have set again every deadline the run before handed over, at the
   * same time, by the time it installs its handlers: a deadline lost in a hand-over would
   * pass unnoticed. A missing one fails the workflow task (retried, and visible to
   * operations) rather than the run going on without it.
   */
  private checkDeadlinesTakenOver(): void {
    const carried = this.carriedOver;
    if (!carried) return;
    this.carriedOver = undefined;
    const missing = carried.deadlines.filter((deadline) => this.deadlines.get(deadline.name)?.at !== deadline.at).map((deadline) => deadline.name);
    if (missing.length > 0) throw new Error(`continued run lost deadlines: ${missing.join(', ')}`);
    // Their lag is measured from when they were first set.
    for (const deadline of carried.deadlines) this.deadlines.get(deadline.name)!.setAt = deadline.setAt;
  }

  /** The history length at which a replay declined to hand over (no marker there): not asked again in that task. */
  private handOverDeclinedAt = -1;

  /**
   * The history length of the workflow task in which an update was last handled. A run does
   * not continue in that task: the server can fail to keep an update's answer sent with the
   * hand-over and deliver the update again to the next run (temporalio/temporal#6375), where
   * it would be answered as a repeat. Set by the handlers, so a replay sees the same.
   */
  private updateHandledAt = -1;
  /** A short timer armed to give the hand-over a workflow task of its own. */
  private handOverNudged = false;

  private noteUpdateHandled(): void {
    this.updateHandledAt = workflowInfo().historyLength;
  }

  /** Past the bound, idle (nothing queued or running, no handler part-way), and not declined in this workflow task. */
  private idlePastBound(): boolean {
    return (
      this.inFlight === 0 &&
      this.keyedJobs.length === 0 &&
      this.urgentKeyedJobs.length === 0 &&
      workflowInfo().historyLength !== this.handOverDeclinedAt &&
      this.pastContinueAsNewBound() &&
      allHandlersFinished()
    );
  }

  /** Idle past the bound but in a task that handled an update: a 1 ms timer brings the next task (once until it fires). */
  private nudgeHandOver(): void {
    if (this.handOverNudged) return;
    this.handOverNudged = true;
    sleep(1).then(
      () => {
        this.handOverNudged = false;
        this.wake = true;
      },
      () => undefined,
    );
  }

  /** Whether this run has grown to the bound at which it hands over (CONTINUE_AS_NEW_AT, or the server's suggestion). */
  private pastContinueAsNewBound(): boolean {
    const info = workflowInfo();
    return (
      info.historyLength >= this.continueAsNewAt.historyEvents ||
      info.historySize >= this.continueAsNewAt.historyBytes ||
      info.continueAsNewSuggested ||
      this.eventsReceived >= this.continueAsNewAt.eventsReceived
    );
  }

  /** A patch a workflow checks later in its life: holds for a case started since QUIET_ENGINE_PATCH without a marker of its own. */
  since(patchId: string): boolean {
    return this.quiet || patched(patchId);
  }

  now(): string {
    return new Date(Date.now()).toISOString();
  }

  openPrompts(): Prompt[] {
    return this.prompts.filter((prompt) => prompt.status === 'open');
  }

  openPrompt(kind: PromptKind, about?: string): Prompt | undefined {
    return this.prompts.find((prompt) => prompt.status === 'open' && prompt.kind === kind && (about === undefined || prompt.about === about));
  }

  /** The time rules of prompts (integrity mode): their default due time and what happens when it passes. */
  setPromptTiming(timing: PromptTiming): void {
    this.timing = timing;
  }

  /** Decisions dated before this instant (the referral's receipt) are refused (integrity mode). */
  setDecisionsNotBefore(atMs: number): void {
    this.decisionsNotBefore = atMs;
  }

  /**
   * Raises a prompt, unless one of the same kind (and subject) is already open: then that
   * one is returned. In integrity mode every prompt has a due time (the workflow's, or the
   * policy's default) and is a deadline: unless `escalatedByWorkflow` says the workflow
   * has its own deadline for it, its passing marks it overdue and calls `onOverdue`.
   */
  raisePrompt(kind: PromptKind, rule: string, options: { dueBy?: number | string; about?: string; escalatedByWorkflow?: boolean } = {}): Prompt {
    const existing = this.openPrompt(kind, options.about);
    if (existing) return existing;
    const sequence = (this.promptSequence.get(kind) ?? 0) + 1;
    this.promptSequence.set(kind, sequence);
    const prompt: Prompt = {
      promptId: promptIdFor(this.workflowId, kind, sequence),
      kind,
      rule,
      raisedAt: this.now(),
      allowedDecisions: allowedDecisions(kind),
      status: 'open',
    };
    if (options.dueBy !== undefined) prompt.dueBy = typeof options.dueBy === 'number' ? new Date(options.dueBy).toISOString() : options.dueBy;
    else if (this.integrity && this.timing) prompt.dueBy = new Date(this.timing.defaultDueBy(Date.now())).toISOString();
    if (options.about !== undefined) prompt.about = options.about;
    this.prompts.push(prompt);
    this.log({ source: 'engine', type: 'prompt-raised', ref: prompt.promptId, status: 'applied', rule });
    if (this.integrity && !options.escalatedByWorkflow) this.watchPrompt(prompt);
    this.wake = true;
    return prompt;
  }

  /** Moves an open prompt's due time (e.g. the sign-off prompt follows an agreed completion date). */
  moveDueBy(prompt: Prompt, dueAt: number): void {
    prompt.dueBy = new Date(dueAt).toISOString();
    if (this.integrity && this.deadlines.has(promptDeadline(prompt))) this.watchPrompt(prompt);
  }

  private watchPrompt(prompt: Prompt): void {
    if (prompt.dueBy === undefined) return;
    this.setDeadline(promptDeadline(prompt), Date.parse(prompt.dueBy), () => {
      if (prompt.status !== 'open') return;
      prompt.overdue = true;
      this.timing?.onOverdue(prompt);
    });
  }

  /** Closes open prompts that no longer apply (e.g. the visit happened before the manager answered). */
  withdrawPrompts(kind: PromptKind, reason: string, about?: string): void {
    for (const prompt of this.prompts) {
      if (prompt.status === 'open' && prompt.kind === kind && (about === undefined || prompt.about === about)) {
        prompt.status = 'withdrawn';
        prompt.answeredAt = this.now();
        this.deadlines.delete(promptDeadline(prompt));
        this.log({ source: 'engine', type: 'prompt-withdrawn', ref: prompt.promptId, status: 'applied', reason, rule: prompt.rule });
      }
    }
    this.wake = true;
  }

  log(entry: Omit<RecordEntry, 'at'>): void {
    this.record.push({ at: this.now(), ...entry });
  }

  /** Sets (or moves) a named deadline; `fire` runs in the main loop once workflow time reaches `at`. */
  setDeadline(name: string, at: number, fire: () => void): void {
    this.deadlines.set(name, { at, setAt: Date.now(), fire });
    this.wake = true;
  }

  clearDeadline(name: string): void {
    this.deadlines.delete(name);
    this.wake = true;
  }

  deadline(name: string): number | undefined {
    return this.deadlines.get(name)?.at;
  }

  /** The pending deadlines, earliest first (for the state: every open case has one). */
  pendingDeadlines(): PendingDeadline[] {
    return [...this.deadlines.entries()]
      .sort((a, b) => a[1].at - b[1].at)
      .map(([name, deadline]) => ({ name, dueAt: new Date(deadline.at).toISOString() }));
  }

  /**
   * Queues outside work (an activity, a child workflow) for the main loop. `urgent` work
   * (e.g. telling the police of a suspected crime, R-12) runs before other queued work,
   * in the order it was queued.
   */
  later(job: () => Promise<void>, options: { urgent?: boolean; key?: string } = {}): void {
    if (this.integrity) {
      (options.urgent ? this.urgentKeyedJobs : this.keyedJobs).push({ key: options.key, job });
    } else if (options.urgent) this.urgentJobs.push(job);
    else this.jobs.push(job);
    this.wake = true;
  }

  installHandlers(handlers: EngineHandlers): void {
    // Before the handlers: a message buffered for this run is handled as they are set, and may
    // rightly settle a deadline handed over (e.g. answer a prompt).
    this.checkDeadlinesTakenOver();
    setHandler(eventSignal, (input: DomainEvent) => void this.receiveEvent(input, handlers));
    setHandler(
      recordEventUpdate,
      (input): EventRecorded => {
        this.noteUpdateHandled();
        return { duplicate: this.receiveEvent(input, handlers) === 'duplicate' };
      },
      {
        // An invalid event is refused before it reaches the history (the signal records it as rejected).
        validator: (input) => {
          const parsed = domainEventSchema.safeParse(input);
          if (!parsed.success) throw ApplicationFailure.nonRetryable('invalid event', 'invalid-event', { issues: toIssues(parsed.error) });
          // A repeat is answered as one without being written: a retrying sender cannot grow the history.
          // (Histories from before this check hold accepted repeats: the handler still answers them as duplicates.)
          const { eventId } = parsed.data;
          if (this.seenEventIds.has(eventId)) throw ApplicationFailure.nonRetryable(`event ${eventId} has already reached this case`, 'duplicate-event', { eventId });
          // A first-seen event the case cannot take is refused here: nothing is written, and its id stays free.
          const refusal = handlers.refuseEvent?.(parsed.data);
          if (refusal) throw ApplicationFailure.nonRetryable(refusal.rejected, 'event-refused', { reason: refusal.rejected, rule: refusal.rule });
          const limit = this.eventLimitRefusal();
          if (limit) throw ApplicationFailure.nonRetryable(limit.message, limit.type, limit.details);
        },
      },
    );
    setHandler(managerDecisionSignal, (input) => {
      const check = this.checkDecision(input, handlers);
      if (!check.ok) {
        this.log({
          source: 'decision',
          type: typeof input?.decision === 'string' ? input.decision : 'unknown',
          ref: typeof input?.promptId === 'string' ? input.promptId : undefined,
          actor: typeof input?.decidedBy === 'string' ? input.decidedBy : undefined,
          status: 'rejected',
          reason: `${check.rejection.code}: ${check.rejection.message}`,
        });
        return;
      }
      this.applyDecision(check.prompt, check.decision, handlers);
    });
    setHandler(
      decideUpdate,
      (input, request?: DecisionRequestKey): DecisionAccepted => {
        this.noteUpdateHandled();
        const check = this.checkDecision(input, handlers);
        // The validator has passed, and handlers run one at a time, so this holds.
        if (!check.ok) throw ApplicationFailure.nonRetryable(check.rejection.message, check.rejection.code, check.rejection);
        this.applyDecision(check.prompt, check.decision, handlers);
        const recorded: RecordedDecision = { decision: check.decision.decision, decidedBy: check.decision.decidedBy, decidedAt: check.decision.decidedAt };
        // Kept on replay too (the key is in the update's input in the history): a repeat is
        // recognised after any worker restart. Only state changes here, no command.
        const key = requestKeyOf(request);
        if (key) this.keyedAnswers.set(check.prompt.promptId, { ...key, decision: recorded });
        // Since QUIET_ENGINE_PATCH the answer leaves the state out: the update's result is
        // kept in history, and the whole state in every decision's result grew it without
        // need. The API reads the state by query (api/decisions.ts).
        return { accepted: true, promptId: check.prompt.promptId, duplicate: false, decision: recorded, ...(this.quiet ? {} : { state: handlers.state() }) };
      },
      {
        validator: (input, request?: DecisionRequestKey) => {
          // Before checkDecision, which would call the answered prompt closed.
          this.refuseRepeatedRequest(input, request, handlers);
          const check = this.checkDecision(input, handlers);
          if (!check.ok) throw ApplicationFailure.nonRetryable(check.rejection.message, check.rejection.code, check.rejection);
        },
      },
    );
    setHandler(stateQuery, () => handlers.state());
    setHandler(openPromptsQuery, () => this.openPrompts());
    setHandler(keyedAnswerQuery, (promptId) => this.keyedAnswers.get(promptId) ?? null);
    this.searchAttributesOf = handlers.searchAttributes;
  }

  private searchAttributesOf?: () => SearchAttributeUpdatePair[];

  /**
   * A request that carries the Idempotency-Key of the one that answered this prompt:
   * the same request again (same hash) is refused as `decision-repeated` with the
   * recorded answer, which the API answers as accepted (a refusal writes nothing, so a
   * retrying caller never grows the history); another request under that key is refused
   * as `idempotency-key-reused`. Anything else goes on to the ordinary checks.
   */
  private refuseRepeatedRequest(input: unknown, request: unknown, handlers: EngineHandlers): void {
    const key = requestKeyOf(request);
    const promptId = (input as { promptId?: unknown } | undefined)?.promptId;
    if (!key || typeof promptId !== 'string') return;
    const answered = this.keyedAnswers.get(promptId);
    if (!answered || answered.idempotencyKey !== key.idempotencyKey) return;
    if (answered.requestHash !== key.requestHash) {
      const message = idempotencyKeyReusedMessage(key.idempotencyKey, promptId);
      throw ApplicationFailure.nonRetryable(message, 'idempotency-key-reused', { issues: [{ path: 'Idempotency-Key', message }] });
    }
    throw ApplicationFailure.nonRetryable(`prompt ${promptId} was answered by this request already`, 'decision-repeated', {
      promptId,
      decision: answered.decision,
      state: handlers.state(),
    });
  }

  /** checkDecision, then the workflow's own validateDecision hook (if any). */
  private checkDecision(input: unknown, handlers: EngineHandlers): DecisionCheck {
    const check = checkDecision(this.prompts, input, { censusItems: this.censusMeasures, procedureChecks: this.procedureChecks });
    if (check.ok && this.integrity) {
      const refusal = decidedAtRefusal(Date.parse(check.decision.decidedAt), Date.now(), this.decisionsNotBefore);
      if (refusal) return { ok: false, rejection: { code: 'invalid-decision', message: refusal, issues: [{ path: 'decidedAt', message: refusal }] } };
    }
    if (!check.ok || !handlers.validateDecision) return check;
    const refusal = handlers.validateDecision(check.prompt, check.decision);
    if (refusal === undefined) return check;
    return { ok: false, rejection: { code: 'invalid-decision', message: refusal, issues: [{ path: '(body)', message: refusal }] } };
  }

  /** Applies (or records as rejected) an event; 'duplicate' when its eventId was seen before. */
  private receiveEvent(input: DomainEvent, handlers: EngineHandlers): 'duplicate' | 'received' {
    const parsed = domainEventSchema.safeParse(input);
    const eventId = typeof input?.eventId === 'string' ? input.eventId : undefined;
    if (eventId && this.seenEventIds.has(eventId)) return 'duplicate'; // a retried delivery changes nothing
    this.countEvent();
    if (this.integrity) return this.receiveEventWithIntegrity(input, eventId, handlers);
    if (eventId) this.seenEventIds.add(eventId);
    if (!parsed.success) {
      this.log({
        source: 'event',
        type: typeof input?.type === 'string' ? input.type : 'unknown',
        ref: eventId,
        status: 'rejected',
        reason: `invalid event: ${toIssues(parsed.error).map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      });
      return 'received';
    }
    const event = parsed.data;
    const verdict = handlers.onEvent(event) ?? {};
    const entry: Omit<RecordEntry, 'at'> = {
      source: 'event',
      type: event.type,
      ref: event.eventId,
      actor: event.actor,
      status: 'rejected' in verdict ? 'rejected' : 'applied',
      occurredAt: event.occurredAt,
    };
    if (event.recordedAt) entry.recordedAt = event.recordedAt;
    if ('rejected' in verdict) entry.reason = verdict.rejected;
    if (verdict.rule) entry.rule = verdict.rule;
    if ('lateRecording' in verdict && verdict.lateRecording) entry.lateRecording = true;
    this.log(entry);
    this.wake = true;
    return 'received';
  }

  /**
   * Integrity mode: a refused or invalid event is on the record as rejected but does not
   * use up its eventId (a corrected resend is taken); an event without `recordedAt` is
   * taken as recorded when it reached the case (R-16).
   */
  private receiveEventWithIntegrity(input: DomainEvent, eventId: string | undefined, handlers: EngineHandlers): 'received' {
    const parsed = domainEventSchema.safeParse(input);
    if (!parsed.success) {
      this.log({
        source: 'event',
        type: typeof input?.type === 'string' ? input.type : 'unknown',
        ref: eventId,
        status: 'rejected',
        reason: `invalid event: ${toIssues(parsed.error).map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      });
      return 'received';
    }
    const event = { ...parsed.data, recordedAt: parsed.data.recordedAt ?? this.now() };
    const refusal = handlers.refuseEvent?.(event);
    const verdict = refusal ?? handlers.onEvent(event) ?? {};
    const rejected = 'rejected' in verdict;
    if (!rejected) this.seenEventIds.add(event.eventId);
    const entry: Omit<RecordEntry, 'at'> = {
      source: 'event',
      type: event.type,
      ref: event.eventId,
      actor: event.actor,
      ...(event.submittedBy !== undefined && event.submittedBy !== event.actor ? { submittedBy: event.submittedBy } : {}),
      ...(event.backdated ? { backdated: true } : {}),
      status: rejected ? 'rejected' : 'applied',
      occurredAt: event.occurredAt,
      recordedAt: event.recordedAt,
    };
    if ('rejected' in verdict) entry.reason = verdict.rejected;
    if (verdict.rule) entry.rule = verdict.rule;
    if ('lateRecording' in verdict && verdict.lateRecording) entry.lateRecording = true;
    this.log(entry);
    this.wake = true;
    return 'received';
  }

  /** Counts an event that reached the handlers (it is in the history, whatever its verdict). */
  private countEvent(): void {
    this.eventsReceived += 1;
    this.recentEventTimes.push(Date.now());
    this.forgetEventsBefore(Date.now() - HOUR_MS);
  }

  private forgetEventsBefore(atMs: number): void {
    while (this.recentEventTimes.length > 0 && this.recentEventTimes[0]! <= atMs) this.recentEventTimes.shift();
  }

  /** Why this run takes no more events now (EVENT_WRITE_LIMITS), or undefined. Asked by the `recordEvent` validator. */
  private eventLimitRefusal(): { type: string; message: string; details: Record<string, unknown> } | undefined {
    const info = workflowInfo();
    if (info.historyLength >= EVENT_WRITE_LIMITS.historyEvents || info.historySize >= EVENT_WRITE_LIMITS.historyBytes) {
      return {
        type: 'history-full',
        message: `this case's history is near Temporal's limit (${info.historyLength} events, ${info.historySize} bytes): it takes no more events until operations continue it`,
        details: { historyEvents: info.historyLength, historyBytes: info.historySize },
      };
    }
    if (this.eventsReceived >= EVENT_WRITE_LIMITS.perRun) {
      return {
        type: 'event-limit-reached',
        message: `this case has taken ${this.eventsReceived} events, its limit (${EVENT_WRITE_LIMITS.perRun}): it takes no more until operations continue it`,
        details: { limit: EVENT_WRITE_LIMITS.perRun },
      };
    }
    const now = Date.now();
    this.forgetEventsBefore(now - HOUR_MS);
    if (this.recentEventTimes.length >= EVENT_WRITE_LIMITS.perHour) {
      const retryAfterSeconds = Math.max(1, Math.ceil((this.recentEventTimes[0]! + HOUR_MS - now) / 1000));
      return {
        type: 'too-many-events',
        message: `this case has taken ${this.recentEventTimes.length} events in the last hour, its limit (${EVENT_WRITE_LIMITS.perHour}): retry in ${retryAfterSeconds} s`,
        details: { limit: EVENT_WRITE_LIMITS.perHour, retryAfterSeconds },
      };
    }
    return undefined;
  }

  private applyDecision(prompt: Prompt, decision: AnyDecision, handlers: EngineHandlers): void {
    prompt.status = 'answered';
    prompt.answeredAt = this.now();
    this.deadlines.delete(promptDeadline(prompt));
    prompt.answeredBy = decision.decidedBy;
    prompt.decision = decision.decision;
    this.log({ source: 'decision', type: decision.decision, ref: prompt.promptId, actor: decision.decidedBy, status: 'applied', rule: prompt.rule });
    handlers.onDecision(prompt, decision);
    this.wake = true;
  }

  /**
   * The main loop: runs queued work, fires deadlines that have come, and sleeps until the
   * next deadline or message. Returns when `done()` holds and no work is left.
   */
  async run(done: () => boolean, options: { continueAsNew?: ContinueAsNew } = {}): Promise<void> {
    this.checkDeadlinesTakenOver();
    if (this.integrity) return this.runConcurrently(done, options.continueAsNew);
    for (;;) {
      await this.drain();
      this.fireDueDeadlines();
      if (this.jobs.length > 0 || this.urgentJobs.length > 0) continue;
      if (done()) return;
      const next = this.nextDeadline();
      this.wake = false;
      const timeout = next === undefined ? undefined : Math.max(1, next - Date.now());
      if (timeout === undefined) await condition(() => this.wake || done());
      else await condition(() => this.wake || done(), timeout);
    }
  }

  /**
   * Integrity mode: queued work is started, not awaited, so deadlines fire on time
   * whatever a receiver or a child workflow does. Returns when `done()` holds and no
   * work is queued or running.
   */
  private async runConcurrently(done: () => boolean, continueAsNew?: ContinueAsNew): Promise<void> {
    if (this.quiet) return this.runQuietly(done, continueAsNew);
    for (;;) {
      this.startQueuedJobs();
      this.fireDueDeadlines();
      this.syncSearchAttributes();
      if (this.keyedJobs.length > 0 || this.urgentKeyedJobs.length > 0) continue;
      if (done() && this.inFlight === 0) return;
      const next = this.nextDeadline();
      this.wake = false;
      const ready = () => this.wake || (done() && this.inFlight === 0);
      if (next === undefined) await condition(ready);
      else if (!(await condition(ready, Math.max(1, next - this.clock())))) {
        // The timer armed for `next` fired: that deadline has come, whatever time this task
        // was handed (around a worker restart a task can carry the time of the one before;
        // a replay sees the right one). The history decides, so live runs and replays agree.
        this.clockFloor = Math.max(this.clockFloor, next);
      }
    }
  }

  /**
   * The concurrent loop as it runs since QUIET_ENGINE_PATCH. Search attributes and memo are
   * written when the loop is about to wait (or return), so once for all that one workflow
   * task changed. A timer armed for the next deadline is kept while that deadline stands,
   * and woken early by a message the loop simply waits again: only a deadline earlier than
   * every armed timer arms a new one. A timer that fires says its time has come (the clock
   * floor), whether or not its deadline is still wanted.
   *
   * Given `continueAsNew`, a run past its bound hands over once it is idle: nothing queued
   * or running (a delivery still being retried finishes in this run) and no handler part-way.
   */
  private async runQuietly(done: () => boolean, continueAsNew?: ContinueAsNew): Promise<void> {
    for (;;) {
      this.startQueuedJobs();
      this.fireDueDeadlines();
      if (this.keyedJobs.length > 0 || this.urgentKeyedJobs.length > 0) continue;
      this.syncSearchAttributes();
      if (done() && this.inFlight === 0) return;
      if (continueAsNew && this.idlePastBound()) {
        // Replaying a run from before the patch that had passed its bound: it goes on as it
        // ran, and is asked again at its next workflow task.
        if (!patched(CONTINUE_AS_NEW_PATCH)) this.handOverDeclinedAt = workflowInfo().historyLength;
        else if (workflowInfo().historyLength !== this.updateHandledAt) return continueAsNew(this.carryOver());
        else this.nudgeHandOver();
      }
      const next = this.nextDeadline();
      this.wake = false;
      if (next !== undefined && (this.armedTimerAt === undefined || next < this.armedTimerAt)) this.armTimer(next);
      // An update's handler counts as running until just after its answer: the hand-over
      // waits for that, not for the next message.
      await condition(() => this.wake || (done() && this.inFlight === 0) || (continueAsNew !== undefined && !this.handOverNudged && this.idlePastBound()));
    }
  }

  private armTimer(at: number): void {
    this.armedTimerAt = at;
    sleep(Math.max(1, at - this.clock())).then(
      () => {
        this.clockFloor = Math.max(this.clockFloor, at);
        if (this.armedTimerAt === at) this.armedTimerAt = undefined;
        this.wake = true;
      },
      // Cancelled with the workflow: the loop's own wait ends it.
      () => undefined,
    );
  }

  /** Workflow time, never earlier than the latest deadline whose timer has fired. */
  private clock(): number {
    return Math.max(Date.now(), this.clockFloor);
  }

  private clockFloor = 0;

  private startQueuedJobs(): void {
    while (this.urgentKeyedJobs.length > 0 || this.keyedJobs.length > 0) {
      const { key, job } = (this.urgentKeyedJobs.shift() ?? this.keyedJobs.shift())!;
      this.inFlight += 1;
      const previous = key === undefined ? undefined : this.chains.get(key);
      const run = (previous ?? Promise.resolve()).then(job).finally(() => {
        this.inFlight -= 1;
        if (key !== undefined && this.chains.get(key) === chained) this.chains.delete(key);
        this.wake = true;
      });
      // A job's own failure is its business (each job records it); the chain goes on.
      const chained = run.catch(() => undefined);
      if (key !== undefined) this.chains.set(key, chained);
    }
  }

  private nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const deadline of this.deadlines.values()) if (next === undefined || deadline.at < next) next = deadline.at;
    return next;
  }

  private fireDueDeadlines(): void {
    const now = this.integrity ? this.clock() : Date.now();
    for (const [name, deadline] of [...this.deadlines.entries()].sort((a, b) => a[1].at - b[1].at)) {
      if (deadline.at > now) continue;
      if (this.deadlines.get(name) !== deadline) continue; // moved by an earlier deadline's effect
      this.deadlines.delete(name);
      recordDeadlineLag(name, deadline);
      if (this.integrity) {
        this.log({ source: 'engine', type: 'deadline-passed', status: 'applied', reason: name, dueAt: new Date(deadline.at).toISOString() });
      }
      deadline.fire();
    }
  }

  private async drain(): Promise<void> {
    while (this.urgentJobs.length > 0 || this.jobs.length > 0) {
      const job = this.urgentJobs.shift() ?? this.jobs.shift();
      if (job) await job();
    }
    this.syncSearchAttributes();
  }

  private syncSearchAttributes(): void {
    const pairs: SearchAttributeUpdatePair[] = [
      { key: OpenPromptKindsKey, value: [...new Set(this.openPrompts().map((prompt) => prompt.kind))] },
      ...(this.integrity ? [{ key: FailingDeliveriesKey, value: this.failingDeliveries }] : []),
      ...(this.promptsDueAttribute ? [{ key: OpenPromptsDueKey, value: openPromptsDueEntries(this.prompts) }] : []),
      ...(this.searchAttributesOf?.() ?? []),
    ];
    const snapshot = JSON.stringify(pairs.map((pair) => [pair.key.name, pair.value]));
    if (snapshot !== this.lastSearchAttributes) {
      this.lastSearchAttributes = snapshot;
      upsertSearchAttributes(pairs);
    }
    if (this.promptsMemo) {
      // Written in the same workflow task as OpenPromptKinds, so a visibility row's attributes and memo agree.
      const openPrompts = this.openPrompts();
      const memo = JSON.stringify(openPrompts);
      if (memo !== this.lastPromptsMemo) {
        this.lastPromptsMemo = memo;
        upsertMemo({ [OPEN_PROMPTS_MEMO]: openPrompts });
      }
    }
  }
}

/** The update's second argument when it is a well-formed DecisionRequestKey (it is optional). */
function requestKeyOf(request: unknown): DecisionRequestKey | undefined {
  if (!request || typeof request !== 'object') return undefined;
  const { idempotencyKey, requestHash } = request as Record<string, unknown>;
  if (typeof idempotencyKey !== 'string' || typeof requestHash !== 'string' || idempotencyKey === '' || requestHash === '') return undefined;
  return { idempotencyKey, requestHash };
}

function promptDeadline(prompt: Prompt): string {
  return `prompt:${prompt.promptId}`;
}
