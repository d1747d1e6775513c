/**
 * The activities as workflows call them, with explicit timeouts and retry policies.
 * The calendar is local data and fails fast so that a broken deployment shows at once.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

export const { loadWorkingCalendar } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Cases started before the deadline-integrity change: notifications and case records
 * retry for up to a day, each holding up the work queued after it.
 */
export const { notify, recordToCaseSystem } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

/**
 * Since that change: one attempt retries for a quarter of an hour, then the workflow
 * records the delivery as failing (an operations alert) and tries again later with the
 * same idempotency key (workflows/outbound.ts). The same activities, under their own names
 * in the workflow, so that each call site says which policy it runs with.
 */
export const { notify: deliverNotification, recordToCaseSystem: deliverRecord } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
