import { DateTime } from 'luxon';
import type { Principal } from './auth';
import type { RouteContext } from './context';
import { HttpError } from './errors';
import { scopeClause } from './scope';
import { aggregateTimeliness, DFE_MEASURES, isPastDue, periodBounds, type CompletedAssessment, type OpenAssessment, type TimelinessReport } from './timeliness';
import { listAll, literal } from './visibility';

/**
 * The timeliness report without HTTP: `GET /v1/reports/timeliness` and the dashboard page
 * both call this, so they read one set of rows the same way (the aggregation is
 * api/timeliness.ts); the dashboard also takes the open assessments past due, by workflow
 * id, for its overdue list.
 */
/** The most workflows one report reads per list (completed in the period; open and overdue): past it the report is refused, never cut. */
export const REPORT_ROWS = 50_000;

export interface OverdueAssessment {
  workflowId: string;
  team?: string;
  completionDueAt?: string;
  stage?: string;
}

export interface TimelinessView {
  report: TimelinessReport;
  overdue: OverdueAssessment[];
}

const asString = (value: unknown) => (typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : undefined);
const asBool = (value: unknown) => (typeof value === 'boolean' ? value : undefined);
const asNumber = (value: unknown) => (typeof value === 'number' ? value : undefined);

/** The default period: the twelve months to this one (Europe/London). */
export function defaultPeriod(now: Date): { from: string; to: string } {
  const to = DateTime.fromJSDate(now, { zone: 'Europe/London' }).toFormat('yyyy-MM');
  return { from: DateTime.fromFormat(to, 'yyyy-MM').minus({ months: 11 }).toFormat('yyyy-MM'), to };
}

/** The workflow type a report counts, and its DfE measure where the census has one. */
export const REPORT_TYPES = {
  assessment: { workflowType: 'assessmentWorkflow', dfe: DFE_MEASURES.assessment },
  referral: { workflowType: 'referralWorkflow', dfe: undefined },
  'strategy-discussion': { workflowType: 'strategyDiscussionWorkflow', dfe: undefined },
  'section-47-enquiry': { workflowType: 'section47EnquiryWorkflow', dfe: DFE_MEASURES['section-47-enquiry'] },
  'child-in-need-plan': { workflowType: 'childInNeedPlanWorkflow', dfe: undefined },
} as const;

export async function timelinessView(
  ctx: RouteContext,
  principal: Principal,
  params: { from: string; to: string; team?: string; localAuthority?: string; type?: keyof typeof REPORT_TYPES },
): Promise<TimelinessView> {
  const now = ctx.now();
  const { start, end } = periodBounds(params.from, params.to);
  const type = REPORT_TYPES[params.type ?? 'assessment'];
  const scope = [`WorkflowType = ${literal(type.workflowType)}`];
  const inScope = scopeClause(principal, params.team);
  if (inScope) scope.push(inScope);
  if (params.localAuthority) scope.push(`LocalAuthority = ${literal(params.localAuthority)}`);
  const [completedList, openList] = await Promise.all([
    listAll(ctx.client, [...scope, `CompletedAt >= ${literal(start)}`, `CompletedAt < ${literal(end)}`].join(' AND '), REPORT_ROWS),
    listAll(ctx.client, [...scope, `ExecutionStatus = 'Running'`, 'CompletedAt IS NULL', `(Overdue = true OR CompletionDueAt < ${literal(now.toISOString())})`].join(' AND '), REPORT_ROWS),
  ]);
  if (completedList.truncated || openList.truncated) {
    throw new HttpError(422, 'report-too-large', `more than ${REPORT_ROWS} assessments match: narrow the report by team, localAuthority or a shorter period`);
  }
  const completed: CompletedAssessment[] = completedList.workflows
    .map((row) => ({
      completedAt: asString(row.attributes.CompletedAt) as string,
      completedWithinTimescale: asBool(row.attributes.CompletedWithinTimescale),
      seenWithinTimescale: asBool(row.attributes.SeenWithinTimescale),
      workingDaysToComplete: asNumber(row.attributes.WorkingDaysToComplete),
      censusWorkingDays: asNumber(row.attributes.CensusWorkingDays),
    }))
    .filter((row) => row.completedAt);
  const openRows = openList.workflows.map((row) => ({
    row,
    open: { completionDueAt: asString(row.attributes.CompletionDueAt), overdue: asBool(row.attributes.Overdue) } satisfies OpenAssessment,
  }));
  const report = aggregateTimeliness({ from: params.from, to: params.to, completed, open: openRows.map(({ open }) => open), now, ...(type.dfe ? { dfe: type.dfe } : {}) });
  const overdue = openRows
    .filter(({ open }) => isPastDue(open, now))
    .map(({ row, open }) => ({
      workflowId: row.workflowId,
      ...(typeof row.attributes.Team === 'string' ? { team: row.attributes.Team } : {}),
      ...(open.completionDueAt ? { completionDueAt: open.completionDueAt } : {}),
      ...(typeof row.attributes.AssessmentStage === 'string' ? { stage: row.attributes.AssessmentStage } : {}),
    }))
    .sort((a, b) => (a.completionDueAt ?? '~').localeCompare(b.completionDueAt ?? '~'));
  return { report, overdue };
}
