import { Router } from 'express';
import { censusXmlStream } from '../../domain/cin-census/census-xml';
import { censusSummary, cinCensusRequestSchema, gatherCensus } from '../census';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { principalOf } from '../auth';
import { guard, type RouteContext } from '../context';
import { scopeClause } from '../scope';
import { HttpError, parseOr400 } from '../errors';
import { aggregateTimeliness, DFE_MEASURES, periodBounds, type CompletedAssessment, type OpenAssessment } from '../timeliness';
import { listAll, literal } from '../visibility';
import { workflowTypes } from './assessments';

// Years 1900 to 2099: the report's months and their bounds stay four-digit years (a month of
// year 0 made the default `from` a negative year, which reached the visibility query as null).
const month = z.string().regex(/^(19|20)\d{2}-(0[1-9]|1[0-2])$/, 'must be a month from 1900-01 to 2099-12, YYYY-MM');
const code = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "may hold only letters, digits, '-' and '_'");

export const timelinessQuerySchema = z
  .object({
    from: month.optional(),
    to: month.optional(),
    team: code.optional(),
    localAuthority: code.optional(),
    type: z.enum(Object.keys(workflowTypes) as [keyof typeof workflowTypes]).default('assessment'),
  })
  .strict();

const asString = (value: unknown) => (typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : undefined);
const asBool = (value: unknown) => (typeof value === 'boolean' ? value : undefined);
const asNumber = (value: unknown) => (typeof value === 'number' ? value : undefined);

/** The most assessments one report reads per list (completed in the period; open and overdue). */
export const REPORT_ROWS = 50_000;

const maxMonth = (a: string, b: string) => (a > b ? a : b);

export function reportRoutes(ctx: RouteContext): Router {
  const router = Router();

  router.get('/v1/reports/timeliness', ...guard(ctx, 'report.timeliness', ['manager', 'operations']), async (req, res) => {
    const params = parseOr400(timelinessQuerySchema, req.query);
    const now = ctx.now();
    const to = params.to ?? DateTime.fromJSDate(now, { zone: 'Europe/London' }).toFormat('yyyy-MM');
    const from = params.from ?? maxMonth(DateTime.fromFormat(to, 'yyyy-MM').minus({ months: 11 }).toFormat('yyyy-MM'), '1900-01');
    // Each month is well-formed (the document's pattern), so the order is refused as 422.
    if (from > to) throw new HttpError(422, 'invalid-request', 'from must not be after to', { issues: [{ path: 'from', message: 'must not be after to' }] });
    const { start, end } = periodBounds(from, to);
    const scope = [`WorkflowType = ${literal(workflowTypes[params.type])}`];
    const inScope = scopeClause(principalOf(res), params.team);
    if (inScope) scope.push(inScope);
    if (params.localAuthority) scope.push(`LocalAuthority = ${literal(params.localAuthority)}`);
    const [completedList, openList] = await Promise.all([
      listAll(ctx.client, [...scope, `CompletedAt >= ${literal(start)}`, `CompletedAt < ${literal(end)}`].join(' AND '), REPORT_ROWS),
      listAll(ctx.client, [...scope, `ExecutionStatus = 'Running'`, 'CompletedAt IS NULL', `(Overdue = true OR CompletionDueAt < ${literal(now.toISOString())})`].join(' AND '), REPORT_ROWS),
    ]);
    // A timeliness figure from part of the cases would mislead: refuse rather than cut.
    if (completedList.truncated || openList.truncated) {
      throw new HttpError(422, 'report-too-large', `more than ${REPORT_ROWS} assessments match: narrow the report by team, localAuthority or a shorter period`);
    }
    const [completedRows, openRows] = [completedList.workflows, openList.workflows];
    const completed: CompletedAssessment[] = completedRows.map((row) => ({
      completedAt: asString(row.attributes.CompletedAt) as string,
      completedWithinTimescale: asBool(row.attributes.CompletedWithinTimescale),
      seenWithinTimescale: asBool(row.attributes.SeenWithinTimescale),
      workingDaysToComplete: asNumber(row.attributes.WorkingDaysToComplete),
      censusWorkingDays: asNumber(row.attributes.CensusWorkingDays),
    }));
    const open: OpenAssessment[] = openRows.map((row) => ({ completionDueAt: asString(row.attributes.CompletionDueAt), overdue: asBool(row.attributes.Overdue) }));
    const dfe = params.type === 'assessment' || params.type === 'section-47-enquiry' ? DFE_MEASURES[params.type] : undefined;
    res.json(aggregateTimeliness({ from, to, completed: completed.filter((row) => row.completedAt), open, now, ...(dfe ? { dfe } : {}) }));
  });

  // The CIN census return (operations): the engine's states joined to the identifiers the
  // case system sends for this request only. XML by default, streamed child by child; the
  // summary alone (counts, who was left out and why, what is missing) as JSON on request.
  router.post('/v1/reports/cin-census', ...guard(ctx, 'report.cin-census', ['operations']), ctx.writeLimit, async (req, res) => {
    const request = parseOr400(cinCensusRequestSchema, req.body);
    const scope: string[] = [];
    const inScope = scopeClause(principalOf(res), request.team);
    if (inScope) scope.push(inScope);
    if (request.localAuthority) scope.push(`LocalAuthority = ${literal(request.localAuthority)}`);
    const gathered = await gatherCensus(ctx.client, request, scope, ctx.now());
    const summary = censusSummary(gathered);
    res.set('census-children', String(summary.children));
    res.set('census-left-out', String(summary.leftOut.length));
    res.set('census-warnings', String(summary.warnings.length));
    if (req.accepts(['application/xml', 'application/json']) === 'application/json') {
      res.json({ censusYear: request.censusYear, referenceDate: gathered.header.referenceDate, ...summary });
      return;
    }
    res.type('application/xml; charset=utf-8');
    res.set('content-disposition', `attachment; filename="cin-census-${request.header.laCode}-${request.censusYear}.xml"`);
    for await (const chunk of censusXmlStream(gathered.header, gathered.built.children.map((entry) => entry.child))) {
      // Back-pressure: a slow reader does not make the whole return pile up in memory.
      if (!res.write(chunk)) await new Promise((drained) => res.once('drain', drained));
    }
    res.end();
  });

  return router;
}
