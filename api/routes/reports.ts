import { Router } from 'express';
import { censusXmlStream } from '../../domain/cin-census/census-xml';
import { censusSummary, cinCensusRequestSchema, gatherCensus } from '../census';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { principalOf } from '../auth';
import { guard, type RouteContext } from '../context';
import { scopeClause } from '../scope';
import { HttpError, parseOr400 } from '../errors';
import { timelinessView } from '../timeliness-query';
import { literal } from '../visibility';
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
    res.json((await timelinessView(ctx, principalOf(res), { from, to, team: params.team, localAuthority: params.localAuthority, type: params.type })).report);
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
