/**
 * The mechanics every workflow of an assessment shares: its prompts, its record, event
 * de-duplication, the message handlers (event, managerDecision, decide, state,
 * openPrompts), a deadline scheduler and a queue of outside work (activities, child
 * workflows) that handlers fill and the main loop drains.
 *
 * Handlers are synchronous and only change state; anything that looks outside runs in
 * the main loop, in order, so that each message's effect is recorded in the history
 * before the next deadline is computed.
 */
import {
  ApplicationFailure,
  condition,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { domainEventSchema, type DomainEvent } from '../domain/events';
import { promptIdFor } from '../domain/ids';
import { allowedDecisions, checkDecision, toIssues, type AnyDecision, type DecisionCheck, type Prompt, type PromptKind } from '../domain/prompts';
import type { RecordEntry } from '../domain/record';
import { OpenPromptKindsKey } from './search-attributes';
import {
  decideUpdate,
  eventSignal,
  managerDecisionSignal,
  openPromptsQuery,
  recordEventUpdate,
  stateQuery,
  type DecisionAccepted,
  type EventRecorded,
} from './messages';

/** What an event handler says about an event: applied (optionally under a rule) or rejected with the reason. */
export type EventVerdict = { rejected: string; rule?: string } | { rule?: string; lateRecording?: boolean } | void;

export interface EngineHandlers {
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
  fire: () => void;
}

export class CaseEngine {
  readonly workflowId = workflowInfo().workflowId;
  readonly prompts: Prompt[] = [];
  readonly record: RecordEntry[] = [];
  private readonly seenEventIds = new Set<string>();
  private readonly promptSequence = new Map<PromptKind, number>();
  private readonly deadlines = new Map<string, Deadline>();
  private readonly jobs: Array<() => Promise<void>> = [];
  private readonly urgentJobs: Array<() => Promise<void>> = [];
  private wake = false;
  private lastSearchAttributes = '';

  now(): string {
    return new Date(Date.now()).toISOString();
  }

  openPrompts(): Prompt[] {
    return this.prompts.filter((prompt) => prompt.status === 'open');
  }

  openPrompt(kind: PromptKind, about?: string): Prompt | undefined {
    return this.prompts.find((prompt) => prompt.status === 'open' && prompt.kind === kind && (about === undefined || prompt.about === about));
  }

  /** Raises a prompt, unless one of the same kind (and subject) is already open: then that one is returned. */
  raisePrompt(kind: PromptKind, rule: string, options: { dueBy?: number | string; about?: string } = {}): Prompt {
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
    if (options.about !== undefined) prompt.about = options.about;
    this.prompts.push(prompt);
    this.log({ source: 'engine', type: 'prompt-raised', ref: prompt.promptId, status: 'applied', rule });
    this.wake = true;
    return prompt;
  }

  /** Closes open prompts that no longer apply (e.g. the visit happened before the manager answered). */
  withdrawPrompts(kind: PromptKind, reason: string, about?: string): void {
    for (const prompt of this.prompts) {
      if (prompt.status === 'open' && prompt.kind === kind && (about === undefined || prompt.about === about)) {
        prompt.status = 'withdrawn';
        prompt.answeredAt = this.now();
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
    this.deadlines.set(name, { at, fire });
    this.wake = true;
  }

  clearDeadline(name: string): void {
    this.deadlines.delete(name);
    this.wake = true;
  }

  deadline(name: string): number | undefined {
    return this.deadlines.get(name)?.at;
  }

  /**
   * Queues outside work (an activity, a child workflow) for the main loop. `urgent` work
   * (e.g. telling the police of a suspected crime, R-12) runs before other queued work,
   * in the order it was queued.
   */
  later(job: () => Promise<void>, options: { urgent?: boolean } = {}): void {
    if (options.urgent) this.urgentJobs.push(job);
    else this.jobs.push(job);
    this.wake = true;
  }

  installHandlers(handlers: EngineHandlers): void {
    setHandler(eventSignal, (input: DomainEvent) => void this.receiveEvent(input, handlers));
    setHandler(
      recordEventUpdate,
      (input): EventRecorded => ({ duplicate: this.receiveEvent(input, handlers) === 'duplicate' }),
      {
        // An invalid event is refused before it reaches the history (the signal records it as rejected).
        validator: (input) => {
          const parsed = domainEventSchema.safeParse(input);
          if (!parsed.success) throw ApplicationFailure.nonRetryable('invalid event', 'invalid-event', { issues: toIssues(parsed.error) });
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
      (input): DecisionAccepted => {
        const check = this.checkDecision(input, handlers);
        // The validator has passed, and handlers run one at a time, so this holds.
        if (!check.ok) throw ApplicationFailure.nonRetryable(check.rejection.message, check.rejection.code, check.rejection);
        this.applyDecision(check.prompt, check.decision, handlers);
        return { accepted: true, promptId: check.prompt.promptId, state: handlers.state() };
      },
      {
        validator: (input) => {
          const check = this.checkDecision(input, handlers);
          if (!check.ok) throw ApplicationFailure.nonRetryable(check.rejection.message, check.rejection.code, check.rejection);
        },
      },
    );
    setHandler(stateQuery, () => handlers.state());
    setHandler(openPromptsQuery, () => this.openPrompts());
    this.searchAttributesOf = handlers.searchAttributes;
  }

  private searchAttributesOf?: () => SearchAttributeUpdatePair[];

  /** checkDecision, then the workflow's own validateDecision hook (if any). */
  private checkDecision(input: unknown, handlers: EngineHandlers): DecisionCheck {
    const check = checkDecision(this.prompts, input);
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

  private applyDecision(prompt: Prompt, decision: AnyDecision, handlers: EngineHandlers): void {
    prompt.status = 'answered';
    prompt.answeredAt = this.now();
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
  async run(done: () => boolean): Promise<void> {
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

  private nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const deadline of this.deadlines.values()) if (next === undefined || deadline.at < next) next = deadline.at;
    return next;
  }

  private fireDueDeadlines(): void {
    const now = Date.now();
    for (const [name, deadline] of [...this.deadlines.entries()].sort((a, b) => a[1].at - b[1].at)) {
      if (deadline.at > now) continue;
      if (this.deadlines.get(name) !== deadline) continue; // moved by an earlier deadline's effect
      this.deadlines.delete(name);
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
      ...(this.searchAttributesOf?.() ?? []),
    ];
    const snapshot = JSON.stringify(pairs.map((pair) => [pair.key.name, pair.value]));
    if (snapshot === this.lastSearchAttributes) return;
    this.lastSearchAttributes = snapshot;
    upsertSearchAttributes(pairs);
  }
}
