/**
 * Notifications and case-system records as workflows send them: queued on the engine so
 * they run in the main loop, in order, with the outcome on the record. Opaque references
 * only (workflow id, referral id, child ref, prompt id, rule): never free text.
 */
import { isCancellation } from '@temporalio/workflow';
import type { Notification } from '../activities';
import { notify, recordToCaseSystem } from './activity-proxies';
import type { CaseEngine } from './engine';

export interface Outbound {
  notify(recipient: Notification['recipient'], reason: string, rule: string, extra?: { promptId?: string; target?: string }, urgent?: boolean): void;
  caseRecord(kind: string, data: Record<string, unknown>): void;
}

export function createOutbound(engine: CaseEngine, refs: { referralId: string; childRef?: string }): Outbound {
  return {
    notify(recipient, reason, rule, extra = {}, urgent = false) {
      const notification: Notification = { recipient, reason, rule, workflowId: engine.workflowId, ...refs, ...extra };
      engine.later(
        async () => {
          try {
            await notify(notification);
            engine.log({ source: 'engine', type: 'notified', ref: extra.promptId, status: 'applied', rule, reason: `${recipient}: ${reason}` });
          } catch (error) {
            if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
            // Retries are exhausted (a day): the failure is on the record for the manager to follow up.
            engine.log({ source: 'engine', type: 'notification-failed', ref: extra.promptId, status: 'rejected', rule, reason: `${recipient}: ${reason}` });
          }
        },
        { urgent },
      );
    },
    caseRecord(kind, data) {
      engine.later(async () => {
        try {
          await recordToCaseSystem({ kind, workflowId: engine.workflowId, ...refs, data });
        } catch (error) {
          if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
          engine.log({ source: 'engine', type: 'case-record-failed', status: 'rejected', reason: kind });
        }
      });
    },
  };
}
