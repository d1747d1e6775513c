import { describe, expect, it } from 'vitest';
import { buildWorkingCalendar } from '../../activities/calendar';
import { aggregateTimeliness, DFE_MEASURES } from '../../api/timeliness';
import { assessmentStartedAt, censusWorkingDays, DFE_ASSESSMENT_WORKING_DAYS } from '../../domain/cin-census/measures';
import { checkDecision, checklistItems, type Prompt } from '../../domain/prompts';
import { addWorkingDays, localDate, startOfLocalDay } from '../../domain/working-days';

// Years around any day this runs: the measures are counted on the calendar, not on fixed dates.
const year = new Date().getUTCFullYear();
const calendar = buildWorkingCalendar({ region: 'england-and-wales', timeZone: 'Europe/London', fromYear: year - 1, toYear: year + 1 });
const tenAm = (dateKey: string) => startOfLocalDay(calendar, dateKey) + 10 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('the DfE measures, as the census counts them', () => {
  it('counts working days from the start date (not counted) to the end date (counted), whatever the hours', () => {
    // A working day whatever the year's weekdays and bank holidays.
    const start = addWorkingDays(calendar, tenAm(`${year}-03-02`), 1);
    const startDate = localDate(calendar, start);
    for (const days of [0, 1, 15, 45, 46]) {
      const end = addWorkingDays(calendar, start, days);
      expect(censusWorkingDays(calendar, iso(start), iso(end))).toBe(days);
      // Early on the start day to late on the end day: the same dates, the same count.
      expect(censusWorkingDays(calendar, iso(startOfLocalDay(calendar, startDate) + 60_000), iso(end + 6 * 3_600_000))).toBe(days);
    }
  });

  it('starts an assessment at the duty decision that opened it, else at its allocation', () => {
    expect(assessmentStartedAt({ dutyDecidedAt: 'D', allocatedAt: 'A' })).toBe('D');
    expect(assessmentStartedAt({ allocatedAt: 'A' })).toBe('A');
    expect(assessmentStartedAt({})).toBeUndefined();
  });

  it("reports per month the share within the DfE measure, beside the engine's own figures", () => {
    const report = aggregateTimeliness({
      from: `${year}-01`,
      to: `${year}-02`,
      completed: [
        { completedAt: `${year}-01-15T12:00:00Z`, workingDaysToComplete: 50, censusWorkingDays: 45 },
        { completedAt: `${year}-01-20T12:00:00Z`, workingDaysToComplete: 47, censusWorkingDays: 46 },
        // Signed off before the census measures: not known, so not counted either way.
        { completedAt: `${year}-01-21T12:00:00Z`, workingDaysToComplete: 30 },
      ],
      open: [],
      now: new Date(`${year}-03-01T00:00:00Z`),
      dfe: DFE_MEASURES.assessment,
    });
    expect(report.periods[0]?.dfe).toEqual({ measure: 'assessment-start-to-authorisation', workingDays: DFE_ASSESSMENT_WORKING_DAYS, count: 1, of: 2, share: 0.5, medianWorkingDays: 45.5 });
    expect(report.periods[0]?.within45WorkingDays).toEqual({ count: 1, of: 3, share: 1 / 3 });
    expect(report.periods[1]?.dfe).toMatchObject({ count: 0, of: 0, share: null, medianWorkingDays: null });
  });
});

describe('the census items at sign-off', () => {
  const prompt: Prompt = { promptId: 'W~sign-off-1', kind: 'sign-off', rule: 'R-21', raisedAt: '2026-01-01T00:00:00Z', allowedDecisions: ['sign-off', 'return-to-worker'], status: 'open' };
  const signOff = {
    promptId: prompt.promptId,
    decision: 'sign-off',
    rationale: 'r',
    decidedBy: 'MGR-1',
    decidedAt: '2026-01-02T00:00:00Z',
    outcome: 'no-further-action',
    determinations: { childInNeed: false, significantHarmSuspected: false, accommodationNeeded: false },
    checklist: Object.fromEntries(checklistItems.map((item) => [item, { met: true }])),
  };

  it('refuses a sign-off without the primary need and the assessment factors, naming both', () => {
    const check = checkDecision([prompt], signOff);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.rejection.code).toBe('invalid-decision');
    expect((check.rejection as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path).sort()).toEqual(['assessmentFactors', 'primaryNeedCode']);
  });

  it('refuses factor codes the census does not know, 21 with others, and a factor twice', () => {
    for (const assessmentFactors of [['99Z'], ['21', '3B'], ['3B', '3B'], []]) {
      const check = checkDecision([prompt], { ...signOff, primaryNeedCode: 'N1', assessmentFactors });
      expect(check.ok, JSON.stringify(assessmentFactors)).toBe(false);
    }
    expect(checkDecision([prompt], { ...signOff, primaryNeedCode: 'N10', assessmentFactors: ['3B'] }).ok).toBe(false);
    expect(checkDecision([prompt], { ...signOff, primaryNeedCode: 'N1', assessmentFactors: ['3B', '4B'] }).ok).toBe(true);
  });

  it('takes a sign-off without them in a case started before they were asked for (its history replays)', () => {
    expect(checkDecision([prompt], signOff, { censusItems: false }).ok).toBe(true);
  });
});
