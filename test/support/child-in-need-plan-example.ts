import type { ChildInNeedPlan } from '../../domain/child-in-need-plan';

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * a complete child in need plan, its review dates and action points counted from
 * `fromMs` (a sign-off or an enquiry's outcome with 'child-in-need-plan' needs one).
 */
export const childInNeedPlan = (fromMs: number, reviewDaysFromNow: number[] = [20, 60]): ChildInNeedPlan => ({
  planManagerId: 'MGR-2',
  services: [
    { service: 'family support worker', agencyRef: 'AG-1' },
    { service: 'school nurse', agencyRef: 'AG-2' },
  ],
  actions: [{ actionRef: 'ACT-1', action: 'weekly home visits by the family support worker', owner: 'SW-1', dueBy: iso(fromMs + 10 * DAY_MS) }],
  reviewDates: reviewDaysFromNow.map((days) => iso(fromMs + days * DAY_MS)),
  intendedOutcomes: ['the child attends school every day'],
  contingency: 'a strategy discussion if attendance falls or concerns grow',
  discussion: { child: { discussed: true, on: iso(fromMs) }, family: { discussed: true, on: iso(fromMs) }, professionals: { discussed: false, reason: 'the network meeting is next week' } },
});

