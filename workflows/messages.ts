/**
 * The message contract shared by every workflow of an assessment (referral, assessment,
 * strategy discussion, section 47 enquiry). The API imports these definitions, so each
 * message name exists once.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DomainEvent } from '../domain/events';
import type { ManagerDecision, Prompt } from '../domain/prompts';

/** A field event (child seen, home visited, ...). A repeated eventId changes nothing. */
export const eventSignal = defineSignal<[DomainEvent]>('event');

export interface EventRecorded {
  /** true when this eventId had already reached the workflow: nothing changed. */
  duplicate: boolean;
}

/**
 * The same field event as an Update, so that the sender learns whether it was new. It
 * shares the engine's de-duplication with the `event` signal (one set of seen eventIds).
 */
export const recordEventUpdate = defineUpdate<EventRecorded, [DomainEvent]>('recordEvent');

/** A manager's answer to a prompt, fire-and-forget: a rejected one is kept in the record. */
export const managerDecisionSignal = defineSignal<[ManagerDecision]>('managerDecision');

/** A decision as the workflow recorded it: what a repeat of its request is answered with. */
export interface RecordedDecision {
  decision: string;
  decidedBy: string;
  decidedAt: string;
}

export interface DecisionAccepted {
  accepted: true;
  promptId: string;
  /**
   * true when this was a repeat of the request that answered the prompt (same
   * Idempotency-Key, same body): nothing changed, and `decision` is the one recorded then.
   */
  duplicate: boolean;
  decision: RecordedDecision;
  /**
   * The workflow's state right after the decision was applied (for a repeat: as it is now).
   * Left out by cases started since QUIET_ENGINE_PATCH (an update's result is kept in
   * history): the API then reads it by query, so its answer always has it.
   */
  state?: unknown;
}

/**
 * What makes a decision request retry-safe (the optional second argument of `decide`): the
 * caller's Idempotency-Key and a hash of the request as the API received it (its body
 * and caller, before defaults such as decidedAt were filled in). The workflow keeps both
 * with the answer, so a repeat is recognised whichever API process it reaches, and after
 * any restart (they are in the update's input in the history).
 */
export interface DecisionRequestKey {
  idempotencyKey: string;
  requestHash: string;
}

/**
 * The same decision as an Update: its validator runs checkDecision, so the caller learns
 * at once whether it was accepted, or why not (ApplicationFailure type = rejection code).
 * With a DecisionRequestKey, a repeat of the request that answered the prompt is refused
 * as `decision-repeated` carrying the recorded answer (nothing is written), and the same
 * key with another request as `idempotency-key-reused`.
 */
export const decideUpdate = defineUpdate<DecisionAccepted, [ManagerDecision, DecisionRequestKey?]>('decide');

/** the referral tells its running assessments that a manager authorised sharing without consent. */
export interface ConsentOverridden {
  promptId: string;
  decidedBy: string;
  decidedAt: string;
}
export const consentOverriddenSignal = defineSignal<[ConsentOverridden]>('consentOverridden');

/** The workflow's whole state (each workflow documents its own shape). */
export const stateQuery = defineQuery<unknown>('state');

export const openPromptsQuery = defineQuery<Prompt[]>('openPrompts');
/**
 * The memo key under which a case keeps what `openPromptsQuery` answers (since the
 * open-prompts-memo patch), so that the prompt list reads it from visibility rows.
 */
export const OPEN_PROMPTS_MEMO = 'openPrompts';

/** A prompt's answer made under an Idempotency-Key: the key, the request's hash and the decision. */
export type KeyedAnswer = DecisionRequestKey & { decision: RecordedDecision };

/**
 * The answer to this prompt and the request key that made it, or null (no such prompt, or
 * answered without a key). For a workflow that has closed since (no update reaches it):
 * the API tells a repeat of the closing decision from another request with it.
 */
export const keyedAnswerQuery = defineQuery<KeyedAnswer | null, [string]>('keyedAnswer');
