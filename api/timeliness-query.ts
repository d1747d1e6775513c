import { DateTime } from 'luxon';
import type { Principal } from './auth';
import type { RouteContext } from './context';
import { HttpError } from './errors';
import { scopeClause } from './scope';
import { aggregateTimeliness, isPastDue, periodBounds, type CompletedAssessment, type OpenAssessment, type TimelinessReport } from './timeliness';
import { listAll, literal } from './visibility';

/**
 * The timeliness report without HTTP, for the dashboard page: the same visibility queries
 * and the same aggregation (api/timeliness.ts) as `GET /v1/reports/timeliness`, plus the
 * open assessments past due, by workflow id, for the overdue list. Kept apart from the
 * route so the dashboard and the JSON report read one set of rows the same way.
 */
export const DASHBOARD_ROWS = 50_000;

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

export async function timelinessView(ctx: RouteContext, principal: Principal, params: { from: string; to: string; team?: string }): Promise<TimelinessView> {
  const now = ctx.now();
  const { start, end } = periodBounds(params.from, params.to);
  const scope = [`WorkflowType = 'assessmentWorkflow'`];
  const inScope = scopeClause(principal, params.team);
  if (inScope) scope.push(inScope);
  const [completedList, openList] = await Promise.all([
    listAll(ctx.client, [...scope, `CompletedAt >= ${literal(start)}`, `CompletedAt < ${literal(end)}`].join(' AND '), DASHBOARD_ROWS),
    listAll(ctx.client, [...scope, `ExecutionStatus = 'Running'`, 'CompletedAt IS NULL', `(Overdue = true OR CompletionDueAt < ${literal(now.toISOString())})`].join(' AND '), DASHBOARD_ROWS),
  ]);
  if (completedList.truncated || openList.truncated) {
    throw new HttpError(422, 'report-too-large', `more than ${DASHBOARD_ROWS} assessments match: narrow the report by team or a shorter period`);
  }
  const completed: CompletedAssessment[] = completedList.workflows
    .map((row) => ({
      completedAt: asString(row.attributes.CompletedAt) as string,
      completedWithinTimescale: asBool(row.attributes.CompletedWithinTimescale),
      seenWithinTimescale: asBool(row.attributes.SeenWithinTimescale),
      workingDaysToComplete: asNumber(row.attributes.WorkingDaysToComplete),
    }))
    .filter((row) => row.completedAt);
  const openRows = openList.workflows.map((row) => ({
    row,
    open: { completionDueAt: asString(row.attributes.CompletionDueAt), overdue: asBool(row.attributes.Overdue) } satisfies OpenAssessment,
  }));
  const report = aggregateTimeliness({ from: params.from, to: params.to, completed, open: openRows.map(({ open }) => open), now });
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
