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

export interface DecisionAccepted {
  accepted: true;
  promptId: string;
  /** The workflow's state right after the decision was applied. */
  state: unknown;
}

/**
 * The same decision as an Update: its validator runs checkDecision, so the caller learns
 * at once whether it was accepted, or why not (ApplicationFailure type = rejection code).
 */
export const decideUpdate = defineUpdate<DecisionAccepted, [ManagerDecision]>('decide');

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
