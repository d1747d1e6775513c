/**
 * Notifications and case-system records as workflows send them: queued on the engine and
 * started by its main loop, with the outcome on the record. Opaque references only
 * (workflow id, referral id, child ref, prompt id, rule): never free text.
 *
 * Integrity mode (cases started after the deadline-integrity change): each delivery runs
 * on its own, in order per recipient, so a receiver that is down holds up nothing else.
 * A delivery that fails for a while is on the record and counted as failing (the
 * `FailingDeliveries` search attribute, an operations alert) and keeps being retried,
 * with the same idempotency key, for up to `DELIVERY_GIVE_UP_MS`.
 */
import { isCancellation, sleep, workflowInfo } from '@temporalio/workflow';
import type { Notification } from '../activities';
import { deliverNotification, deliverRecord, notify, recordToCaseSystem } from './activity-proxies';
import type { CaseEngine } from './engine';

export interface Outbound {
  notify(recipient: Notification['recipient'], reason: string, rule: string, extra?: { promptId?: string; target?: string }, urgent?: boolean): void;
  caseRecord(kind: string, data: Record<string, unknown>): void;
}

/** How long a failing delivery is retried before it is recorded as failed (the alert stays up). */
export const DELIVERY_GIVE_UP_MS = 3 * 86_400_000;
/** The pause between two delivery attempts (each attempt retries for a quarter of an hour itself). */
const DELIVERY_PAUSE_MS = 15 * 60_000;

export function createOutbound(engine: CaseEngine, refs: { referralId: string; childRef?: string }): Outbound {
  let deliveries = 0;
  /** A key per delivery that stays the same across its attempts, so a receiver drops a repeat. */
  const deliveryKey = (channel: string) => `${engine.workflowId}/${workflowInfo().runId}/${channel}-${(deliveries += 1)}`;

  /** Runs one delivery until it goes through or is given up; true when it went through. */
  const deliverPersistently = async (send: () => Promise<unknown>, what: { type: string; ref?: string; rule?: string; reason: string }): Promise<boolean> => {
    const startedAt = Date.now();
    let failing = false;
    for (;;) {
      try {
        await send();
        if (failing) {
          engine.failingDeliveries -= 1;
          engine.log({ source: 'engine', type: 'delivery-recovered', ref: what.ref, status: 'applied', rule: what.rule, reason: what.reason });
        }
        return true;
      } catch (error) {
        if (isCancellation(error)) throw error; // a cancelled case stops here, it does not carry on
        if (!failing) {
          failing = true;
          engine.failingDeliveries += 1;
          engine.log({ source: 'engine', type: 'delivery-failing', ref: what.ref, status: 'rejected', rule: what.rule, reason: what.reason });
        }
        if (Date.now() - startedAt >= DELIVERY_GIVE_UP_MS) {
          engine.log({ source: 'engine', type: what.type, ref: what.ref, status: 'rejected', rule: what.rule, reason: what.reason });
          return false;
        }
        await sleep(DELIVERY_PAUSE_MS);
      }
    }
  };

  return {
    notify(recipient, reason, rule, extra = {}, urgent = false) {
      const notification: Notification = { recipient, reason, rule, workflowId: engine.workflowId, ...refs, ...extra };
      if (engine.integrity) {
        const idempotencyKey = deliveryKey('notification');
        engine.later(
          async () => {
            const described = { type: 'notification-failed', ref: extra.promptId, rule, reason: `${recipient}: ${reason}` };
            if (await deliverPersistently(() => deliverNotification({ ...notification, idempotencyKey }), described)) {
              engine.log({ source: 'engine', type: 'notified', ref: extra.promptId, status: 'applied', rule, reason: `${recipient}: ${reason}` });
            }
          },
          { urgent, key: `notify:${recipient}` },
        );
        return;
      }
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
      if (engine.integrity) {
        const idempotencyKey = deliveryKey('case-record');
        engine.later(
          async () => {
            await deliverPersistently(() => deliverRecord({ kind, workflowId: engine.workflowId, ...refs, data, idempotencyKey }), {
              type: 'case-record-failed',
              reason: kind,
            });
          },
          { key: 'case-record' },
        );
        return;
      }
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
