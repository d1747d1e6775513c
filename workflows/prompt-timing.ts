/**
 * Every prompt of a case started after the deadline-integrity change has a due time:
 * its rule's own, or the policy's response time in working days. An unanswered prompt
 * past its due time is overdue and goes up a level: the manager is told of a manager's
 * prompt, the head of service of an escalation.
 */
import type { AuthorityPolicy } from '../domain/policy';
import { addWorkingDays, type WorkingCalendar } from '../domain/working-days';
import type { CaseEngine } from './engine';
import type { Outbound } from './outbound';

export function applyPromptTiming(engine: CaseEngine, calendar: WorkingCalendar, policy: AuthorityPolicy, outbound: Outbound): void {
  engine.setPromptTiming({
    // Policies pinned before this setting existed have no value for it: the default applies.
    defaultDueBy: (raisedAtMs) => addWorkingDays(calendar, raisedAtMs, policy.promptResponseWorkingDays ?? 1),
    onOverdue: (prompt) =>
      outbound.notify(prompt.kind === 'escalation' ? 'head-of-service' : 'manager', `${prompt.kind}-overdue`, prompt.rule, { promptId: prompt.promptId }),
  });
}
