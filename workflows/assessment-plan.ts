/**
 * the assessment plan (cases since the outcomes-follow-on change; wired in by
 * workflows/assessment-outcomes.ts). Each version is kept; each action's target date is a
 * deadline that, passed undone, prompts the social worker and supervisor to act and set a new
 * date; events that change the child's circumstances prompt a review (a new version, or "no
 * change" with the reason). When the plan is due and the time to review are policy settings
 * with no default in the seeds: without them the step is listed as awaiting.
 */
import type { DomainEvent } from '../domain/events';
import { planReviewTriggers, type AuthorityPolicy, type PlanReviewTrigger } from '../domain/policy';
import type { AnyDecision, DecisionFor, Prompt } from '../domain/prompts';
import { addWorkingDays, type WorkingCalendar } from '../domain/working-days';
import type { CaseEngine } from './engine';
import type { Outbound } from './outbound';

type PlanEvent = Extract<DomainEvent, { type: 'assessment-plan-recorded' }>;

export interface AssessmentPlanVersion {
  version: number;
  eventId: string;
  recordedAt: string;
  actions: PlanEvent['actions'];
  contacts: PlanEvent['contacts'];
}

export interface AssessmentPlanState {
  versions: AssessmentPlanVersion[];
  /** when the plan is due (policy assessmentPlanWorkingDays from allocation), where set. */
  dueAt?: string;
  overdue: boolean;
  /** Each action of the current version: done, or its (possibly moved) target date. */
  actions: Array<{ actionRef: string; dueBy: string; done: boolean; overdue: boolean }>;
  /** reviews asked for by a change of circumstances, and their answer. */
  reviews: Array<{ trigger: PlanReviewTrigger; askedAt: string; promptId: string; outcome?: 'no-change' | 'new-version' }>;
}

export interface PlanContext {
  engine: CaseEngine;
  outbound: Outbound;
  policy: () => AuthorityPolicy;
  calendar: () => WorkingCalendar;
  /** The assessment is open to fieldwork (allocated, not completed). */
  inProgress: () => boolean;
}

export function createAssessmentPlan(ctx: PlanContext) {
  const { engine, outbound } = ctx;
  const state: AssessmentPlanState = { versions: [], overdue: false, actions: [], reviews: [] };
  const deadlineOf = (actionRef: string) => `assessment-plan-action:${actionRef}`;

  const watchAction = (entry: AssessmentPlanState['actions'][number]) => {
    engine.setDeadline(deadlineOf(entry.actionRef), Date.parse(entry.dueBy), () => {
      if (entry.done || !ctx.inProgress()) return;
      entry.overdue = true;
      const prompt = engine.raisePrompt('plan-action-overdue', 'R-31', { about: entry.actionRef });
      outbound.notify('social-worker', 'plan-action-overdue', 'R-31', { promptId: prompt.promptId, target: entry.actionRef });
      outbound.notify('manager', 'plan-action-overdue', 'R-31', { promptId: prompt.promptId, target: entry.actionRef });
    });
  };

  return {
    /** from allocation the plan is due within the policy's time, where it sets one. */
    onAllocated(allocatedAtMs: number): void {
      const days = ctx.policy().assessmentPlanWorkingDays;
      if (days === undefined || state.versions.length > 0) return;
      const dueAt = addWorkingDays(ctx.calendar(), allocatedAtMs, days);
      state.dueAt = new Date(dueAt).toISOString();
      engine.setDeadline('assessment-plan', dueAt, () => {
        if (state.versions.length > 0 || !ctx.inProgress()) return;
        state.overdue = true;
        const escalation = engine.raisePrompt('escalation', 'R-31', { about: 'assessment-plan' });
        outbound.notify('manager', 'assessment-plan-overdue', 'R-31', { promptId: escalation.promptId });
      });
    },

    onPlan(event: PlanEvent): void {
      const version: AssessmentPlanVersion = { version: state.versions.length + 1, eventId: event.eventId, recordedAt: event.occurredAt, actions: event.actions, contacts: event.contacts };
      state.versions.push(version);
      state.overdue = false;
      engine.clearDeadline('assessment-plan');
      engine.withdrawPrompts('escalation', 'the plan was recorded', 'assessment-plan');
      const done = new Set(state.actions.filter((action) => action.done).map((action) => action.actionRef));
      for (const action of state.actions) engine.clearDeadline(deadlineOf(action.actionRef));
      state.actions = event.actions.map((action) => ({ actionRef: action.actionRef, dueBy: action.dueBy, done: done.has(action.actionRef), overdue: false }));
      for (const action of state.actions) {
        engine.withdrawPrompts('plan-action-overdue', 'a new version of the plan was recorded', action.actionRef);
        if (!action.done) watchAction(action);
      }
      // a review asked for is answered by the new version.
      for (const review of state.reviews) if (review.outcome === undefined) review.outcome = 'new-version';
      engine.withdrawPrompts('assessment-plan-review', 'a new version of the plan was recorded');
      outbound.caseRecord('assessment-plan', { version: version.version, actions: event.actions.map((action) => ({ actionRef: action.actionRef, dueBy: action.dueBy })) });
    },

    /** Why this plan event cannot be taken now, or undefined. */
    refuse(event: DomainEvent): string | undefined {
      if (!ctx.inProgress()) return 'R-31: the assessment plan belongs to an assessment in progress';
      if (event.type === 'assessment-plan-recorded') {
        const refs = event.actions.map((action) => action.actionRef);
        return new Set(refs).size === refs.length ? undefined : 'R-31: each actionRef may appear once in a version';
      }
      if (event.type === 'assessment-plan-action-done' && !state.actions.some((action) => action.actionRef === event.actionRef)) {
        return `R-31: the plan has no action ${event.actionRef}`;
      }
      return undefined;
    },

    onActionDone(event: Extract<DomainEvent, { type: 'assessment-plan-action-done' }>): void {
      const action = state.actions.find((candidate) => candidate.actionRef === event.actionRef)!;
      action.done = true;
      engine.clearDeadline(deadlineOf(action.actionRef));
      engine.withdrawPrompts('plan-action-overdue', 'the action was done', action.actionRef);
    },

    /** a change of circumstances asks for a review of the plan (where one exists and the policy counts the trigger). */
    circumstancesChanged(trigger: PlanReviewTrigger, atMs: number): void {
      if (state.versions.length === 0 || !ctx.inProgress()) return;
      const counted = ctx.policy().planReviewTriggers ?? planReviewTriggers;
      if (!counted.includes(trigger)) return;
      if (engine.openPrompt('assessment-plan-review')) return;
      const days = ctx.policy().planReviewWorkingDays;
      const prompt = engine.raisePrompt('assessment-plan-review', 'R-32', days === undefined ? {} : { dueBy: addWorkingDays(ctx.calendar(), atMs, days) });
      state.reviews.push({ trigger, askedAt: new Date(atMs).toISOString(), promptId: prompt.promptId });
      outbound.notify('social-worker', 'assessment-plan-review', 'R-32', { promptId: prompt.promptId });
    },

    validateDecision(prompt: Prompt, decision: AnyDecision): string | undefined {
      if (prompt.kind === 'plan-action-overdue' && decision.decision === 'new-date') {
        const dueBy = Date.parse((decision as Extract<DecisionFor<'plan-action-overdue'>, { decision: 'new-date' }>).dueBy);
        if (dueBy <= Date.now()) return 'R-31: the new date must lie ahead (dueBy)';
      }
      return undefined;
    },

    onDecision(prompt: Prompt, decision: AnyDecision): boolean {
      if (prompt.kind === 'plan-action-overdue') {
        const action = state.actions.find((candidate) => candidate.actionRef === prompt.about);
        if (!action) return true;
        action.overdue = false;
        if (decision.decision === 'done') action.done = true;
        else {
          action.dueBy = (decision as Extract<DecisionFor<'plan-action-overdue'>, { decision: 'new-date' }>).dueBy;
          watchAction(action);
        }
        return true;
      }
      if (prompt.kind === 'assessment-plan-review') {
        const review = state.reviews.find((candidate) => candidate.promptId === prompt.promptId);
        if (review) review.outcome = 'no-change';
        return true;
      }
      return false;
    },

    /** The steps this plan waits on with no time in the policy (R-31 the plan, R-32 a review). */
    awaiting(): Array<{ step: string; rule: string; reason: string }> {
      const steps: Array<{ step: string; rule: string; reason: string }> = [];
      if (ctx.inProgress() && state.versions.length === 0 && state.dueAt === undefined) {
        steps.push({ step: 'assessment-plan', rule: 'R-31', reason: 'no plan recorded yet; the policy sets no time for it (assessmentPlanWorkingDays)' });
      }
      if (engine.openPrompt('assessment-plan-review') && ctx.policy().planReviewWorkingDays === undefined) {
        steps.push({ step: 'assessment-plan-review', rule: 'R-32', reason: 'the policy sets no time for a review (planReviewWorkingDays)' });
      }
      return steps;
    },

    state(): AssessmentPlanState {
      return state;
    },
  };
}
