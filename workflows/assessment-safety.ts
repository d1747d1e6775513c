/**
 * R-33 safety planning, at any point of an assessment (cases since the outcomes-follow-on
 * change; wired in by workflows/assessment-outcomes.ts). Immediate safety recorded as an
 * issue asks for a safety planning meeting of the family's network, facilitated by the social
 * worker; the plan records who does what and for how long; at the end of its period the engine
 * asks to renew or end it. Significant harm still starts a strategy discussion.
 * What a safety plan says is case content: it stays in encrypted payloads.
 */
import type { DomainEvent } from '../domain/events';
import type { AuthorityPolicy } from '../domain/policy';
import type { AnyDecision, DecisionFor, Prompt } from '../domain/prompts';
import { addWorkingDays, type WorkingCalendar } from '../domain/working-days';
import type { CaseEngine } from './engine';
import type { Outbound } from './outbound';

type Commitments = Extract<DecisionFor<'safety-planning'>, { decision: 'safety-plan-agreed' }>['commitments'];

export interface SafetyPlanVersion {
  version: number;
  agreedAt: string;
  agreedUntil: string;
  decidedBy: string;
  commitments: Commitments;
}

export interface SafetyPlanningState {
  status: 'none' | 'meeting-awaited' | 'not-needed' | 'in-force' | 'review-due' | 'ended';
  /** When immediate safety was last recorded as an issue. */
  concernAt?: string;
  /** When the meeting is due, where the policy sets a time (R-33: no default in the seeds). */
  meetingDueAt?: string;
  plans: SafetyPlanVersion[];
}

export interface SafetyContext {
  engine: CaseEngine;
  outbound: Outbound;
  policy: () => AuthorityPolicy;
  calendar: () => WorkingCalendar;
  startStrategyDiscussion: (cause: string, calledAtMs: number) => void;
}

export function createSafetyPlanning(ctx: SafetyContext) {
  const { engine, outbound } = ctx;
  const state: SafetyPlanningState = { status: 'none', plans: [] };

  const current = () => state.plans.at(-1);

  /** The plan's agreed period ends: the social worker and manager are asked to renew or end it. */
  const scheduleEnd = (agreedUntilMs: number) => {
    engine.setDeadline('safety-plan-end', agreedUntilMs, () => {
      if (state.status !== 'in-force') return;
      state.status = 'review-due';
      const prompt = engine.raisePrompt('safety-plan-review', 'R-33');
      outbound.notify('social-worker', 'safety-plan-review-due', 'R-33', { promptId: prompt.promptId });
    });
  };

  const addVersion = (decision: AnyDecision, agreedUntil: string, commitments: Commitments) => {
    state.plans.push({ version: state.plans.length + 1, agreedAt: decision.decidedAt, agreedUntil, decidedBy: decision.decidedBy, commitments });
    state.status = 'in-force';
    scheduleEnd(Date.parse(agreedUntil));
    outbound.caseRecord('safety-plan', { version: state.plans.length, agreedAt: decision.decidedAt, agreedUntil, decidedBy: decision.decidedBy });
  };

  return {
    onConcern(event: Extract<DomainEvent, { type: 'immediate-safety-concern' }>): void {
      const atMs = Date.parse(event.occurredAt);
      state.concernAt = event.occurredAt;
      if (event.significantHarmSuspected) ctx.startStrategyDiscussion('immediate-safety-concern', atMs);
      if (engine.openPrompt('safety-planning')) {
        engine.log({ source: 'engine', type: 'safety-planning-already-asked', ref: event.eventId, status: 'applied', rule: 'R-33' });
        return;
      }
      const days = ctx.policy().safetyPlanningMeetingWorkingDays;
      const dueBy = days === undefined ? undefined : addWorkingDays(ctx.calendar(), atMs, days);
      state.meetingDueAt = dueBy === undefined ? undefined : new Date(dueBy).toISOString();
      state.status = 'meeting-awaited';
      const prompt = engine.raisePrompt('safety-planning', 'R-33', dueBy === undefined ? {} : { dueBy });
      outbound.notify('social-worker', 'safety-planning-meeting-needed', 'R-33', { promptId: prompt.promptId }, true);
      outbound.notify('manager', 'safety-planning-meeting-needed', 'R-33', { promptId: prompt.promptId });
    },

    validateDecision(prompt: Prompt, decision: AnyDecision): string | undefined {
      if (prompt.kind !== 'safety-planning' && prompt.kind !== 'safety-plan-review') return undefined;
      const until = (decision as { agreedUntil?: string }).agreedUntil;
      if (until !== undefined && Date.parse(until) <= Date.now()) return 'R-33: the agreed period must end in the future (agreedUntil)';
      return undefined;
    },

    onDecision(prompt: Prompt, decision: AnyDecision): boolean {
      if (prompt.kind === 'safety-planning') {
        if (decision.decision === 'not-needed') state.status = 'not-needed';
        else {
          const agreed = decision as Extract<DecisionFor<'safety-planning'>, { decision: 'safety-plan-agreed' }>;
          addVersion(decision, agreed.agreedUntil, agreed.commitments);
        }
        return true;
      }
      if (prompt.kind === 'safety-plan-review') {
        if (decision.decision === 'end') {
          state.status = 'ended';
          outbound.caseRecord('safety-plan-ended', { endedAt: decision.decidedAt, decidedBy: decision.decidedBy });
        } else {
          const renewal = decision as Extract<DecisionFor<'safety-plan-review'>, { decision: 'renew' }>;
          addVersion(decision, renewal.agreedUntil, renewal.commitments ?? current()?.commitments ?? []);
        }
        return true;
      }
      return false;
    },

    /** Whether the meeting awaits with no time in the policy (listed as awaiting). */
    awaitingWithoutTime(): boolean {
      return state.status === 'meeting-awaited' && state.meetingDueAt === undefined;
    },

    state(): SafetyPlanningState {
      return state;
    },
  };
}
