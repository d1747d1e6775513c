/**
 * The activities as workflows call them, with explicit timeouts and retry policies.
 * Notifications and case records retry for up to a day (the receiving systems may be
 * down; the idempotency key makes a repeat harmless); the calendar is local data and
 * fails fast so that a broken deployment shows at once.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

export const { loadWorkingCalendar } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export const { notify, recordToCaseSystem } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});
