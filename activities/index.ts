import { Context } from '@temporalio/activity';
import type { WorkingCalendar } from '../domain/working-days';
import { buildWorkingCalendar, type CalendarRequest } from './calendar';
import { deliver, type OutboundConfig } from './outbound';

export type Recipient =
  | 'manager'
  | 'head-of-service'
  | 'police'
  | 'education-welfare'
  | 'family'
  | 'child'
  | 'referrer'
  | 'agency'
  | 'service'
  | 'social-worker';

/** Opaque references only: a notification says what happened where, never to whom by name. */
export interface Notification {
  recipient: Recipient;
  /** What happened, e.g. 'crime-suspected', 'visit-overdue'. */
  reason: string;
  rule: string;
  workflowId: string;
  referralId: string;
  childRef?: string;
  promptId?: string;
  /** e.g. the agency or service referred to, as given by the case system. */
  target?: string;
  /** Set by the workflow so that every attempt of one delivery carries the same key. */
  idempotencyKey?: string;
}

/** An outbound record for the case management system (a decision, an outcome). */
export interface CaseRecord {
  kind: string;
  workflowId: string;
  referralId: string;
  childRef?: string;
  data: Record<string, unknown>;
  /** Set by the workflow so that every attempt of one delivery carries the same key. */
  idempotencyKey?: string;
}

export interface ActivityDeps {
  outbound: OutboundConfig;
}

function idempotencyKey(): string {
  const { workflowExecution, activityId } = Context.current().info;
  return `${workflowExecution?.workflowId ?? 'standalone'}/${workflowExecution?.runId ?? ''}/${activityId}`;
}

/** Everything that looks outside the workflow: the clock-free data it needs and the messages it sends. */
export function createActivities(deps: ActivityDeps) {
  return {
    async loadWorkingCalendar(request: CalendarRequest): Promise<WorkingCalendar> {
      return buildWorkingCalendar(request);
    },
    async notify({ idempotencyKey: key, ...notification }: Notification): Promise<string> {
      const result = await deliver(deps.outbound, { channel: 'notification', idempotencyKey: key ?? idempotencyKey(), body: { ...notification } }, Context.current().info.attempt);
      return result.delivered;
    },
    async recordToCaseSystem({ idempotencyKey: key, ...record }: CaseRecord): Promise<string> {
      const result = await deliver(deps.outbound, { channel: 'case-record', idempotencyKey: key ?? idempotencyKey(), body: { ...record } }, Context.current().info.attempt);
      return result.delivered;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
