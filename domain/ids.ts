import { z } from 'zod';

/**
 * Both rules of an opaque reference in one pattern (letters, digits, '-' and '_', at least
 * one digit): the OpenAPI document carries this one, so that it refuses what the server
 * refuses (a JSON Schema has one `pattern` per string).
 */
export const OPAQUE_REF_PATTERN = /^[A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*$/;

/**
 * Opaque references. Workflow ids, search attributes and logs carry these and nothing
 * else, so a reference must not be able to hold a name: letters, digits, '-' and '_'
 * only, and at least one digit (no person's name has one).
 */
export const opaqueRef = (what: string) =>
  z
    .string()
    .min(3, `${what} must be 3 to 64 characters`)
    .max(64, `${what} must be 3 to 64 characters`)
    .regex(/^[A-Za-z0-9_-]+$/, `${what} may hold only letters, digits, '-' and '_'`)
    .regex(/[0-9]/, `${what} must be an opaque reference with at least one digit, not a name`)
    .meta({ pattern: OPAQUE_REF_PATTERN.source });

export const referralIdSchema = opaqueRef('referralId');
export const childRefSchema = opaqueRef('childRef');
export const staffIdSchema = opaqueRef('staff id');

/**
 * An instant with an explicit offset, e.g. 2026-11-23T09:30:00Z, in the years the
 * working-day calendar covers: a year like 0320 is well-formed but would leave the case
 * without a calendar to count its deadlines (found by schemathesis).
 */
export const instantSchema = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset, e.g. 2026-11-23T09:30:00Z' })
  .refine((value) => {
    const year = Number(value.slice(0, 4));
    return year >= 2000 && year <= 2099;
  }, 'must lie in the years 2000 to 2099 (the years the working-day calendar covers)');
export const localDateSchema = z.iso.date({ message: 'must be a date, YYYY-MM-DD' });

export function referralWorkflowId(referralId: string): string {
  return `referral-${referralId}`;
}

/**
 * How a case's child workflow ids join their references. Refs may hold '-', and so did the
 * joiner of the first ids ('hyphenated'): `assessment-REF-1-2-C3` is referral REF-1 with
 * child 2-C3 and also referral REF-1-2 with child C3. Since the collision-free-ids change
 * ('collision-free') the references are joined with ID_SEPARATOR, which no reference may
 * hold: `assessment-REF-1.2-C3` and `assessment-REF-1-2.C3`. The prefix keeps its '-'
 * (`assessment-`, `strategy-`, `s47-`): it is a fixed word, never part of a reference.
 *
 * A case keeps the form it started with (decided once, when its referral started, and
 * carried to every child workflow), so cases started before the change go on with
 * hyphenated ids and both forms stay valid everywhere ids are read.
 */
export type IdScheme = 'collision-free' | 'hyphenated';

/** Joins the references of ids built since the collision-free-ids change: never in a reference (opaqueRef). */
export const ID_SEPARATOR = '.';

const joiner = (scheme: IdScheme): string => (scheme === 'collision-free' ? ID_SEPARATOR : '-');

export function assessmentWorkflowId(referralId: string, childRef: string, scheme: IdScheme = 'collision-free'): string {
  return `assessment-${[referralId, childRef].join(joiner(scheme))}`;
}

export function strategyDiscussionWorkflowId(referralId: string, childRef: string, sequence: number, scheme: IdScheme = 'collision-free'): string {
  return `strategy-${[referralId, childRef, sequence].join(joiner(scheme))}`;
}

export function section47EnquiryWorkflowId(referralId: string, childRef: string, sequence: number, scheme: IdScheme = 'collision-free'): string {
  return `s47-${[referralId, childRef, sequence].join(joiner(scheme))}`;
}

/**
 * a child in need plan's workflow: one per child and origin, the assessment's sign-off
 * (`A`) or a section 47 enquiry (`S47-<n>`, the enquiry's sequence), so that both can start one.
 */
export function childInNeedPlanWorkflowId(
  referralId: string,
  childRef: string,
  origin: { kind: 'assessment' } | { kind: 'section-47'; sequence: number },
  scheme: IdScheme = 'collision-free',
): string {
  const from = origin.kind === 'assessment' ? 'A' : `S47-${origin.sequence}`;
  return `cin-plan-${[referralId, childRef, from].join(joiner(scheme))}`;
}

/** Prompt ids start with their workflow's id, so a decision finds its workflow without a lookup. */
export function promptIdFor(workflowId: string, kind: string, sequence: number): string {
  return `${workflowId}~${kind}-${sequence}`;
}

export function workflowIdOfPrompt(promptId: string): string | undefined {
  const at = promptId.lastIndexOf('~');
  return at > 0 ? promptId.slice(0, at) : undefined;
}
