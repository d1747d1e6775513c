import { z } from 'zod';
import { referralIdSchema, referralWorkflowId, workflowIdOfPrompt } from '../domain/ids';
import { parseOr400 } from './errors';

/**
 * Workflow ids of a case: referral-, assessment-, strategy-, s47- and cin-plan- followed by opaque refs,
 * joined by '.' (cases started since the collision-free-ids change, e.g.
 * assessment-REF-4001.C-1) or by '-' (cases started before it, e.g. assessment-REF-4001-C-1).
 * See domain/ids.ts.
 */
const caseWorkflowIdPattern = '(?:referral|assessment|strategy|s47|cin-plan)-[A-Za-z0-9_-]+(?:\\.[A-Za-z0-9_-]+){0,2}';

export const caseWorkflowIdSchema = z
  .string()
  .max(200)
  .regex(new RegExp(`^${caseWorkflowIdPattern}$`), 'must be a case workflow id, e.g. assessment-REF-4001.C-1');

export const promptIdSchema = z
  .string()
  .max(260)
  .regex(new RegExp(`^${caseWorkflowIdPattern}~[a-z0-9-]+-[0-9]+$`), 'must be a prompt id, e.g. referral-REF-4001~duty-decision-1');

export const referralIdParam = (value: unknown): string => parseOr400(referralIdSchema, value, 'referralId');
export const assessmentIdParam = (value: unknown): string => parseOr400(caseWorkflowIdSchema, value, 'assessmentId');
export const promptIdParam = (value: unknown): string => parseOr400(promptIdSchema, value, 'promptId');

/** For audit records: a workflow id only when the given value is a valid opaque ref (a malformed one may hold a name). */
export function safeReferralWorkflowId(value: unknown): string | undefined {
  return referralIdSchema.safeParse(value).success ? referralWorkflowId(value as string) : undefined;
}

export function safeCaseWorkflowId(value: unknown): string | undefined {
  return caseWorkflowIdSchema.safeParse(value).success ? (value as string) : undefined;
}

export function safeWorkflowIdOfPrompt(value: unknown): string | undefined {
  return promptIdSchema.safeParse(value).success ? workflowIdOfPrompt(value as string) : undefined;
}
