/**
 * R-25 (section 10): after closure, new information arrives as a new contact whose duty
 * decision shows the child's earlier assessments and their outcomes (004, 002). The child is
 * known by the case system's opaque `childRef`; each assessment carries it as the `ChildRef`
 * search attribute from its start (cases started before that carry none and are not found).
 * Read at the time of asking, within the caller's team scope, from visibility and one query per
 * earlier assessment shown (at most EARLIER_PER_CHILD a child), never stored in the new case.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { stateQuery } from '../workflows/messages';
import type { Principal } from './auth';
import { HttpError } from './errors';
import { scopeClause } from './scope';
import { listPage, literal } from './visibility';

export const EARLIER_PER_CHILD = 10;
/** How long the outcomes of the earlier assessments are waited for (queried at once, each with this deadline). */
export const OUTCOME_QUERY_MS = 3_000;

const instant = (value: unknown): string | undefined => (value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : undefined);

const earlierAssessmentSchema = z.object({
  workflowId: z.string(),
  referralId: z.string().optional(),
  stage: z.string().optional(),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
  outcome: z.string().optional().describe('the signed-off outcome; absent while it is open, or when the case could not be read now'),
  outcomeUnavailable: z.boolean().optional(),
});
export type EarlierAssessment = z.infer<typeof earlierAssessmentSchema>;

/** As `GET /v1/referrals/{referralId}` answers it (the OpenAPI document's schema). */
export const earlierInvolvementSchema = z
  .array(
    z.object({
      childRef: z.string(),
      assessments: z.array(earlierAssessmentSchema),
      more: z.boolean().describe('more earlier assessments exist than are shown'),
    }),
  )
  .describe(
    "R-25: per child of the referral, the child's earlier assessments (other referrals, the same childRef) and their outcomes, within the caller's teams; for roles manager, operations and system only",
  );
export type EarlierInvolvement = z.infer<typeof earlierInvolvementSchema>[number];

/** Roles that see a child's earlier involvement: the duty decision is a manager's; operations and case systems read cases whole. */
const ROLES = new Set(['manager', 'operations', 'system']);

export async function earlierInvolvement(client: Client, principal: Principal, referralId: string, childRefs: readonly string[]): Promise<EarlierInvolvement[] | undefined> {
  if (!principal.roles.some((role) => ROLES.has(role))) return undefined;
  let inScope: string | undefined;
  try {
    inScope = scopeClause(principal);
  } catch (error) {
    if (error instanceof HttpError) return undefined;
    throw error;
  }
  const found: EarlierInvolvement[] = [];
  for (const childRef of [...new Set(childRefs)]) {
    const query = [`WorkflowType = 'assessmentWorkflow'`, `ChildRef = ${literal(childRef)}`, `ReferralId != ${literal(referralId)}`, ...(inScope ? [inScope] : [])].join(' AND ');
    // The store lists open cases first, then the most recently closed (SQL visibility takes no ORDER BY).
    const page = await listPage(client, query, EARLIER_PER_CHILD);
    const assessments = await Promise.all(
      page.workflows.map(async (workflow): Promise<EarlierAssessment> => {
        const shown: EarlierAssessment = {
          workflowId: workflow.workflowId,
          ...(typeof workflow.attributes.ReferralId === 'string' ? { referralId: workflow.attributes.ReferralId } : {}),
          ...(typeof workflow.attributes.AssessmentStage === 'string' ? { stage: workflow.attributes.AssessmentStage } : {}),
          ...(workflow.startTime ? { startedAt: workflow.startTime } : {}),
          ...(instant(workflow.attributes.CompletedAt) ? { completedAt: instant(workflow.attributes.CompletedAt) } : {}),
        };
        // Only a completed assessment has an outcome to show: an open one is not queried.
        if (shown.stage !== 'completed') return shown;
        try {
          const state = (await client.withDeadline(Date.now() + OUTCOME_QUERY_MS, () => client.workflow.getHandle(workflow.workflowId).query(stateQuery))) as { outcome?: unknown };
          return typeof state.outcome === 'string' ? { ...shown, outcome: state.outcome } : shown;
        } catch {
          // Shown without its outcome rather than not at all: the duty decision still learns the child was assessed before.
          return { ...shown, outcomeUnavailable: true };
        }
      }),
    );
    found.push({ childRef, assessments, more: page.nextPageToken !== undefined });
  }
  return found;
}
