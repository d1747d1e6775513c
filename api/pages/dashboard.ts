import { Router, type Request } from 'express';
import { z } from 'zod';
import { principalOf } from '../auth';
import { HttpError } from '../errors';
import { defaultPeriod, timelinessView } from '../timeliness-query';
import type { PagesContext } from './index';
import { NATIONAL_WITHIN_45_DAYS, timelinessChart, timelinessCsv } from './chart';
import { humanise } from './render';
import { lateness } from './working-days';

const month = z.string().regex(/^20\d{2}-(0[1-9]|1[0-2])$/);
const dashboardQuerySchema = z
  .object({ from: z.union([z.literal(''), month]).optional(), to: z.union([z.literal(''), month]).optional(), team: z.union([z.literal(''), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)]).optional() })
  .strict();

/** The period and team asked for (defaults: the last twelve months, every team in scope); 400 for anything else. */
function periodOf(pages: PagesContext, req: Request): { from: string; to: string; team?: string } {
  const parsed = dashboardQuerySchema.safeParse(req.query);
  if (!parsed.success) throw new HttpError(400, 'invalid-request', 'months are YYYY-MM, from 2000-01 to 2099-12; a team is a team code');
  const period = defaultPeriod(pages.ctx.now());
  const from = parsed.data.from || period.from;
  const to = parsed.data.to || period.to;
  if (from > to) throw new HttpError(422, 'invalid-request', 'the first month must not be after the last');
  return { from, to, ...(parsed.data.team ? { team: parsed.data.team } : {}) };
}

/**
 * The timeliness dashboard (operations and managers): month by month, the share within 45
 * working days and within the authority's own timescale, children seen in time, median
 * working days, with a chart and England's figure as a reference line; the open
 * assessments past due, each linked to its case; the same figures as CSV.
 */
export function dashboardRoutes(pages: PagesContext): Router {
  const router = Router();

  router.get('/reports/timeliness', ...pages.page('page.timeliness', ['manager', 'operations']), async (req, res) => {
    const period = periodOf(pages, req);
    const { report, overdue } = await timelinessView(pages.ctx, principalOf(res), period);
    const now = pages.ctx.now();
    const percent = (share: number | null) => (share === null ? '–' : `${Math.round(share * 100)}%`);
    pages.render(res, 'dashboard.njk', {
      title: 'Timeliness',
      section: 'reports',
      period,
      chart: timelinessChart(report.periods),
      national: NATIONAL_WITHIN_45_DAYS,
      periods: report.periods.map((row) => ({
        ...row,
        within45: percent(row.within45WorkingDays.share),
        dfe: percent(row.dfe?.share ?? null),
        withinOwn: percent(row.withinOwnTimescale.share),
        seen: percent(row.seenWithinTimescale.share),
      })),
      openPastDueTotal: report.openPastDueTotal,
      overdue: overdue.slice(0, 200).map((row) => ({ ...row, stage: row.stage ? humanise(row.stage) : '', late: lateness(row.completionDueAt, now) })),
      overdueCut: overdue.length > 200,
      csvHref: `/reports/timeliness.csv?${new URLSearchParams({ from: period.from, to: period.to, ...(period.team ? { team: period.team } : {}) }).toString()}`,
    });
  });

  router.get('/reports/timeliness.csv', ...pages.page('page.timeliness.csv', ['manager', 'operations']), async (req, res) => {
    const period = periodOf(pages, req);
    const { report } = await timelinessView(pages.ctx, principalOf(res), period);
    res.set('content-disposition', `attachment; filename="timeliness-${period.from}-to-${period.to}.csv"`);
    res.type('text/csv; charset=utf-8').send(timelinessCsv(report.periods));
  });

  return router;
}
