import { DateTime } from 'luxon';
import type { TimelinessPeriod } from '../timeliness';

/**
 * The timeliness chart, drawn on the server as SVG (no script, nothing fetched): one bar per
 * month for the share of assessments authorised within 45 working days of their start (the
 * DfE's measure, as the CIN census counts it, so the national figure is comparable), and the
 * national figure for England as a dashed reference line. Only numbers reach the template; the table
 * under the chart carries the same figures for screen readers and for anyone who prefers it.
 */
export const NATIONAL_WITHIN_45_DAYS = {
  share: 0.86,
  label: 'England 2024-25: about 86% within 45 working days (DfE, Children in need statistics)',
};

export interface ChartBar {
  x: number;
  y: number;
  width: number;
  height: number;
  label: string;
  /** The month as the axis shows it, e.g. Jan 26. */
  shortLabel: string;
  value: string;
  labelX: number;
}

export interface Chart {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  bars: ChartBar[];
  gridLines: Array<{ y: number; label: string }>;
  reference: { y: number; label: string };
  description: string;
}

/** The month's share on the DfE measure (assessments signed off before the census measures are not known). */
export const dfeShare = (period: TimelinessPeriod): number | null => period.dfe?.share ?? null;

export function timelinessChart(periods: TimelinessPeriod[]): Chart {
  const width = 760;
  const height = 320;
  const plot = { left: 56, top: 16, right: width - 16, bottom: height - 48 };
  const span = plot.right - plot.left;
  const slot = span / Math.max(periods.length, 1);
  const barWidth = Math.max(6, Math.min(40, slot * 0.6));
  const yOf = (share: number) => plot.bottom - share * (plot.bottom - plot.top);
  const bars = periods.map((period, index) => {
    const share = dfeShare(period);
    const x = plot.left + slot * index + (slot - barWidth) / 2;
    const y = share === null ? plot.bottom : yOf(share);
    return {
      x: round(x),
      y: round(y),
      width: round(barWidth),
      height: round(plot.bottom - y),
      label: period.period,
      shortLabel: DateTime.fromFormat(period.period, 'yyyy-MM').toFormat('LLL yy'),
      value: share === null ? 'no assessments completed' : `${Math.round(share * 100)}%`,
      labelX: round(x + barWidth / 2),
    };
  });
  const known = periods.filter((period) => dfeShare(period) !== null);
  return {
    width,
    height,
    plot,
    bars,
    gridLines: [0, 0.25, 0.5, 0.75, 1].map((share) => ({ y: round(yOf(share)), label: `${share * 100}%` })),
    reference: { y: round(yOf(NATIONAL_WITHIN_45_DAYS.share)), label: NATIONAL_WITHIN_45_DAYS.label },
    description:
      known.length === 0
        ? 'No assessments were completed in this period.'
        : `Share of assessments authorised within 45 working days of their start (the DfE measure), month by month: ${known.map((period) => `${period.period} ${Math.round((dfeShare(period) ?? 0) * 100)}%`).join(', ')}. The national figure for England is about 86%.`,
  };
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The report as CSV (RFC 4180): one row per month. Figures only: nothing to escape but the header. */
export function timelinessCsv(periods: TimelinessPeriod[]): string {
  const share = (value: number | null) => (value === null ? '' : value.toFixed(3));
  const rows = [
    'month,completed,within_45_working_days,of_known,share_within_45_working_days,within_own_timescale,share_within_own_timescale,seen_within_timescale,share_seen_within_timescale,median_working_days_to_complete,open_past_due,dfe_within_45_working_days_of_start,dfe_of_known,dfe_share,dfe_median_working_days',
    ...periods.map((period) =>
      [
        period.period,
        period.completed,
        period.within45WorkingDays.count,
        period.within45WorkingDays.of,
        share(period.within45WorkingDays.share),
        period.withinOwnTimescale.count,
        share(period.withinOwnTimescale.share),
        period.seenWithinTimescale.count,
        share(period.seenWithinTimescale.share),
        period.medianWorkingDaysToComplete ?? '',
        period.openPastDue,
        period.dfe?.count ?? '',
        period.dfe?.of ?? '',
        share(period.dfe?.share ?? null),
        period.dfe?.medianWorkingDays ?? '',
      ].join(','),
    ),
  ];
  return `${rows.join('\r\n')}\r\n`;
}
