import { describe, expect, it } from 'vitest';
import { childInNeedPlanSchema, planAgencies } from '../../domain/child-in-need-plan';
import { childInNeedPlanWorkflowId } from '../../domain/ids';
import { needsStrategyDiscussion, outcomeRefusal, type SignOffOutcome } from '../../domain/outcomes';
import { decisionSchemas } from '../../domain/prompts';
import { childInNeedPlan } from '../support/child-in-need-plan-example';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const signOff = (outcome: string, childInNeed: boolean, significantHarmSuspected: boolean, extra: Partial<SignOffOutcome> = {}): SignOffOutcome => ({
  outcome,
  determinations: { childInNeed, significantHarmSuspected, accommodationNeeded: false },
  ...extra,
});

describe('outcome consistency (R-42) and what outcomes need (R-44, R-45)', () => {
  it('R-42 a child in need plan needs "child in need: yes"; a strategy discussion or emergency action needs "significant harm: yes"', () => {
    expect(outcomeRefusal(signOff('child-in-need-plan', false, false, { childInNeedPlan: childInNeedPlan(NOW) }), NOW)).toMatch(/^R-42.*childInNeed/);
    expect(outcomeRefusal(signOff('strategy-discussion', true, false), NOW)).toMatch(/^R-42.*significantHarmSuspected/);
    expect(outcomeRefusal(signOff('emergency-action', false, false), NOW)).toMatch(/^R-42/);
    expect(outcomeRefusal(signOff('emergency-action', false, true), NOW)).toBeUndefined();
    expect(outcomeRefusal(signOff('no-further-action', false, false), NOW)).toBeUndefined();
  });

  it('R-42 a disabled child determined not in need needs a reason', () => {
    expect(outcomeRefusal(signOff('no-further-action', false, false, { childDisabled: true }), NOW)).toMatch(/^R-42.*notInNeedReason/);
    expect(outcomeRefusal(signOff('no-further-action', false, false, { childDisabled: true, notInNeedReason: 'needs met by universal services' }), NOW)).toBeUndefined();
    expect(outcomeRefusal(signOff('no-further-action', true, false, { childDisabled: true }), NOW)).toBeUndefined();
  });

  it('R-42 "significant harm: yes" with another outcome needs a strategy discussion held, or one is started', () => {
    expect(needsStrategyDiscussion(signOff('child-in-need-plan', true, true), false)).toBe(true);
    expect(needsStrategyDiscussion(signOff('child-in-need-plan', true, true), true)).toBe(false);
    expect(needsStrategyDiscussion(signOff('strategy-discussion', true, true), false)).toBe(false);
    expect(needsStrategyDiscussion(signOff('no-further-action', false, false), false)).toBe(false);
  });

  it('R-44 a child in need plan outcome needs a plan with a review still to come', () => {
    expect(outcomeRefusal(signOff('child-in-need-plan', true, false), NOW)).toMatch(/^R-44.*childInNeedPlan/);
    expect(outcomeRefusal(signOff('child-in-need-plan', true, false, { childInNeedPlan: childInNeedPlan(NOW - 100 * 86_400_000) }), NOW)).toMatch(/^R-44.*review date/);
    expect(outcomeRefusal(signOff('child-in-need-plan', true, false, { childInNeedPlan: childInNeedPlan(NOW) }), NOW)).toBeUndefined();
  });

  it('R-44 the plan states services, action points, review dates, intended outcomes, contingency and its discussion; each missing part is named', () => {
    const plan = childInNeedPlan(NOW);
    expect(childInNeedPlanSchema.safeParse(plan).success).toBe(true);
    for (const part of ['services', 'actions', 'reviewDates', 'intendedOutcomes', 'contingency', 'discussion'] as const) {
      const { [part]: _dropped, ...without } = plan;
      const parsed = childInNeedPlanSchema.safeParse(without);
      expect(parsed.success, part).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toContain(part);
    }
    expect(childInNeedPlanSchema.safeParse({ ...plan, services: [] }).error?.issues[0]?.message).toMatch(/R-44.*services/);
    expect(childInNeedPlanSchema.safeParse({ ...plan, discussion: { ...plan.discussion, family: { discussed: false } } }).success).toBe(false);
    expect(planAgencies({ ...plan, services: [...plan.services, { service: 'counselling', agencyRef: 'AG-1' }] })).toEqual(['AG-1', 'AG-2']);
    // The sign-off and the section 47 outcome carry it, so the OpenAPI document shows an integrator every field.
    expect(decisionSchemas['sign-off'].options[0].shape.childInNeedPlan).toBeDefined();
    expect(decisionSchemas['section-47-outcome'].options[1].shape.childInNeedPlan).toBeDefined();
  });

  it('R-45 a specialist assessment outcome needs the request', () => {
    expect(outcomeRefusal(signOff('specialist-assessment', true, false), NOW)).toMatch(/^R-45.*specialistAssessment/);
    expect(outcomeRefusal(signOff('specialist-assessment', true, false, { specialistAssessment: { requestRef: 'SA-1', kind: 'psychological', provider: 'clinic' } }), NOW)).toBeUndefined();
  });

  it('R-44 a plan\'s workflow id holds opaque references only, one per origin', () => {
    expect(childInNeedPlanWorkflowId('REF-1', 'C-1', { kind: 'assessment' })).toBe('cin-plan-REF-1.C-1.A');
    expect(childInNeedPlanWorkflowId('REF-1', 'C-1', { kind: 'section-47', sequence: 2 })).toBe('cin-plan-REF-1.C-1.S47-2');
  });
});

describe('strategy discussion invitees (R-26 as extended)', () => {
  it('R-26 police and health at least, and the referring agency where an agency referred', async () => {
    const { strategyDiscussionInvitees } = await import('../../domain/outcomes');
    expect(strategyDiscussionInvitees('education')).toEqual(['police', 'health', 'referrer:education']);
    expect(strategyDiscussionInvitees('police')).toEqual(['police', 'health']);
    expect(strategyDiscussionInvitees('family')).toEqual(['police', 'health']);
    expect(strategyDiscussionInvitees('education', { lookedAfter: true })).toEqual(['police', 'health', 'referrer:education', 'residential-or-fostering-service']);
    expect(decisionSchemas['strategy-discussion-outcome'].options[0].shape.attendees.safeParse(['police', 'health', 'referrer', 'residential-or-fostering-service']).success).toBe(true);
  });
});
