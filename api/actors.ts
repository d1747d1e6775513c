import { isHuman, type Principal } from './auth';
import { HttpError } from './errors';

/**
 * Who acted comes from the token, not the body (UK GDPR accountability: the record names
 * the person). A person's events and decisions are recorded under their own staff id and
 * dated within a window around now; only a system (the case management system) may send
 * on behalf of a named member of staff, and back-date, and it is recorded as such.
 */
export const DEFAULT_BACKDATE_WINDOW_HOURS = 24;

/** Well-formed but refused for what it says: 422 (the document cannot state a window around now). */
function refuse(path: string, message: string, status = 422, code = 'invalid-request'): never {
  throw new HttpError(status, code, message, { issues: [{ path, message }] });
}

/** A person may not name someone else; a body that omits who acted is theirs. */
function ownId(principal: Principal, field: string, named: unknown): string {
  if (named === undefined) return principal.sub;
  if (named !== principal.sub) refuse(field, `must be your own staff id (${principal.sub}) or left out: a person records only what they did`, 403, 'actor-not-caller');
  return principal.sub;
}

function tooFarBack(value: string | undefined, now: Date, windowMs: number): boolean {
  return value !== undefined && Date.parse(value) < now.getTime() - windowMs;
}

/** The event body as recorded: actor and submittedBy from the token, backdated marked. */
export function stampEvent(principal: Principal, body: unknown, now: Date, windowMs: number): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body; // the schema names what is wrong
  const event = { ...(body as Record<string, unknown>) };
  delete event.submittedBy;
  delete event.backdated;
  const occurredAt = typeof event.occurredAt === 'string' ? event.occurredAt : undefined;
  if (isHuman(principal)) {
    event.actor = ownId(principal, 'actor', event.actor);
    if (tooFarBack(occurredAt, now, windowMs)) {
      refuse('occurredAt', `is more than ${windowMs / 3_600_000} hours ago: a person records what happened within that window; older events come from the case management system, recorded as back-dated`);
    }
  } else if (tooFarBack(occurredAt, now, windowMs)) {
    event.backdated = true;
  }
  event.submittedBy = principal.sub;
  return event;
}

/** A decision's decidedBy is the manager calling; decidedAt within the window. */
export function stampDecision<T extends { decidedBy?: string; decidedAt?: string }>(principal: Principal, body: T, now: Date, windowMs: number): T & { decidedBy: string; decidedAt: string } {
  const decidedBy = ownId(principal, 'decidedBy', body.decidedBy);
  if (tooFarBack(body.decidedAt, now, windowMs)) {
    refuse('decidedAt', `is more than ${windowMs / 3_600_000} hours ago: a decision is recorded when it is made (within that window)`);
  }
  return { ...body, decidedBy, decidedAt: body.decidedAt ?? now.toISOString() };
}

/** Nothing about a case happened before the referral that opened it. */
export function refuseBeforeReferral(fields: Record<string, string | undefined>, receivedAt: string | undefined): void {
  if (receivedAt === undefined) return;
  const issues = Object.entries(fields)
    .filter(([, value]) => value !== undefined && Date.parse(value) < Date.parse(receivedAt))
    .map(([path]) => ({ path, message: `is before the referral was received (${receivedAt})` }));
  if (issues.length > 0) throw new HttpError(422, 'invalid-request', 'the request has times before the referral', { issues });
}
