/**
 * A generated census year of cases, as the engine's state queries would answer them, for
 * the last census year that has ended by `today` (1 April to 31 March). Dates are counted
 * in working days from the year's start or its reference date, so a run on any day lands
 * every meeting on a working day, whatever the weekday or bank holidays of that year.
 */
import { buildWorkingCalendar } from '../../activities/calendar';
import { censusPeriod, censusYearEnding } from '../../domain/cin-census/codes';
import type { ReferralSource, SuppliedChild } from '../../domain/cin-census/from-engine';
import { addWorkingDays, localDate, shiftLocalDate, startOfLocalDay, type WorkingCalendar } from '../../domain/working-days';

export function lastEndedCensusYear(today: Date): string {
  const year = today.getUTCFullYear();
  const endYear = today.toISOString().slice(5, 10) >= '04-01' ? year : year - 1;
  return censusYearEnding(endYear);
}

/**
 * Instants of a census year counted in working days, so that a year generated on any day
 * lands every step on a working day: `at(date, n)` is 10:00 local on the working day n
 * working days after (n < 0: before) a date; `after(instant, n)` n working days later.
 */
export function censusYearClock(calendar: WorkingCalendar) {
  const at = (dateKey: string, n: number): string => {
    const from = startOfLocalDay(calendar, dateKey) + 10 * 3_600_000;
    if (n >= 0) return new Date(addWorkingDays(calendar, from, n)).toISOString();
    let day = dateKey;
    let counted = 0;
    while (counted < -n) {
      day = shiftLocalDate(day, -1);
      const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
      if (weekday !== 0 && weekday !== 6 && !calendar.holidays.includes(day)) counted += 1;
    }
    return new Date(startOfLocalDay(calendar, day) + 10 * 3_600_000).toISOString();
  };
  const after = (instant: string, n: number) => new Date(addWorkingDays(calendar, Date.parse(instant), n)).toISOString();
  const dateOf = (instant: string) => localDate(calendar, Date.parse(instant));
  return { at, after, dateOf };
}

export interface GeneratedYear {
  censusYear: string;
  period: ReturnType<typeof censusPeriod>;
  calendar: WorkingCalendar;
  referrals: ReferralSource[];
  children: Record<string, SuppliedChild>;
  /** What each childRef stands for. */
  scenarios: Record<string, string>;
}

export function generateCensusYear(today = new Date()): GeneratedYear {
  const censusYear = lastEndedCensusYear(today);
  const period = censusPeriod(censusYear);
  const endYear = Number(period.collectionYear);
  const calendar = buildWorkingCalendar({ region: 'england-and-wales', timeZone: 'Europe/London', fromYear: endYear - 2, toYear: endYear + 1 });
  const { at, after, dateOf } = censusYearClock(calendar);
  const years = (n: number) => `${endYear - n}-06-15`;

  const referrals: ReferralSource[] = [];
  const children: Record<string, SuppliedChild> = {};
  const scenarios: Record<string, string> = {};
  let serial = 0;

  const referral = (
    childRef: string,
    receivedAt: string,
    duty: { decision: string; after: number } | undefined,
    extra: Partial<Omit<ReferralSource, 'referral' | 'childRefs'>> = {},
  ): ReferralSource => {
    serial += 1;
    const source: ReferralSource = {
      referral: {
        referralId: `REF-${serial}`,
        receivedAt,
        stage: duty ? (['no-further-action', 'information-and-advice', 'early-help'].includes(duty.decision) ? 'closed' : 'assessments-running') : 'awaiting-duty-decision',
        dutyDecision: duty ? { decision: duty.decision, decidedBy: 'MGR-1', decidedAt: after(receivedAt, duty.after) } : undefined,
        record: [],
      },
      referrerType: 'education',
      childRefs: [childRef],
      assessments: [],
      section47s: [],
      ...extra,
    };
    referrals.push(source);
    return source;
  };
  const assessment = (source: ReferralSource, childRef: string, completedAfter: number | undefined, outcome?: string) => {
    const start = source.referral.dutyDecision!.decidedAt;
    source.assessments.push({
      childRef,
      stage: completedAfter === undefined ? 'in-progress' : 'completed',
      allocatedAt: after(start, 0),
      completedAt: completedAfter === undefined ? undefined : after(start, completedAfter),
      outcome: outcome as never,
    } as ReferralSource['assessments'][number]);
  };
  const section47 = (source: ReferralSource, childRef: string, startAfter: number, outcome: 'initial-child-protection-conference' | 'not-substantiated', conferenceAfter?: number) => {
    const startedAt = after(source.referral.receivedAt, startAfter);
    const decidedAt = after(startedAt, 2);
    source.section47s.push({
      childRef,
      sequence: source.section47s.length + 1,
      startedAt,
      stage: 'concluded',
      outcome,
      conferenceHeldAt: conferenceAfter === undefined ? undefined : after(startedAt, conferenceAfter),
      record: [{ at: decidedAt, source: 'decision', type: outcome, status: 'applied' }],
    });
  };
  const child = (childRef: string, what: string, supplied: SuppliedChild) => {
    children[childRef] = supplied;
    scenarios[childRef] = what;
  };
  const S = period.start;
  const R = period.referenceDate;

  // NFA at duty: referred, the duty manager decides no further action the next working day.
  referral('C001', at(S, 20), { decision: 'no-further-action', after: 1 }, { referrerType: 'police' });
  child('C001', 'NFA at duty', { sex: 'F', personBirthDate: years(9), upnUnknown: 'UN7', ethnicity: 'WBRI', disabilities: ['NONE'] });

  // Section 17 in time: signed off on the 20th working day, no further action (closed, RC8).
  const s17InTime = referral('C002', at(S, 40), { decision: 'single-assessment', after: 1 }, { recorded: { C002: { primaryNeedCode: 'N9', assessmentFactors: ['21'] } } });
  assessment(s17InTime, 'C002', 20, 'no-further-action');
  child('C002', 'section 17 assessment in time (20 working days), closed after assessment', { sex: 'M', personBirthDate: years(4), upnUnknown: 'UN1', ethnicity: 'MWBC', disabilities: ['NONE'] });

  // Section 17 out of time: signed off after 60 working days, child in need plan, closed later (RC7).
  const s17Late = referral('C003', at(S, 60), { decision: 'single-assessment', after: 1 }, {
    referralSourceCode: '3A',
    recorded: { C003: { primaryNeedCode: 'N4', assessmentFactors: ['3B', '4B'], closure: { date: dateOf(at(S, 200)), reason: 'RC7' } } },
  });
  assessment(s17Late, 'C003', 60, 'child-in-need-plan');
  child('C003', 'section 17 assessment out of time (60 working days), CIN plan, closed later', { sex: 'M', personBirthDate: years(12), upnUnknown: 'UN2', ethnicity: 'APKN', disabilities: ['LD', 'COMM'] });

  // Section 47, the initial conference inside 15 working days; open at the year end.
  const s47Inside = referral('C004', at(S, 80), { decision: 'strategy-discussion', after: 0 }, { referrerType: 'health', recorded: { C004: { primaryNeedCode: 'N1', assessmentFactors: ['16A', '3B'] } } });
  section47(s47Inside, 'C004', 1, 'initial-child-protection-conference', 10);
  assessment(s47Inside, 'C004', 25, 'strategy-discussion');
  child('C004', 'section 47, ICPC 10 working days after the start', { sex: 'F', personBirthDate: years(6), upnUnknown: 'UN5', ethnicity: 'BAFR', disabilities: ['NONE'] });

  // Section 47, the initial conference outside 15 working days; closed after it (RC7).
  const s47Outside = referral('C005', at(S, 100), { decision: 'strategy-discussion', after: 0 }, {
    referrerType: 'police',
    recorded: { C005: { primaryNeedCode: 'N1', assessmentFactors: ['18B'], closure: { date: dateOf(at(S, 170)), reason: 'RC7' } } },
  });
  section47(s47Outside, 'C005', 1, 'initial-child-protection-conference', 22);
  assessment(s47Outside, 'C005', 30, 'strategy-discussion');
  child('C005', 'section 47, ICPC 22 working days after the start', { sex: 'M', personBirthDate: years(14), upnUnknown: 'UN3', ethnicity: 'WOTH', disabilities: ['BEH'] });

  // Section 47, conference not required (not substantiated); the assessment closes it (RC7: after a section 47).
  const notRequired = referral('C006', at(S, 120), { decision: 'strategy-discussion', after: 0 }, { referrerType: 'education', recorded: { C006: { primaryNeedCode: 'N5', assessmentFactors: ['17A'] } } });
  section47(notRequired, 'C006', 1, 'not-substantiated');
  assessment(notRequired, 'C006', 15, 'no-further-action');
  child('C006', 'section 47, ICPC not required', { sex: 'F', personBirthDate: years(10), upnUnknown: 'UN2', ethnicity: 'CHNE', disabilities: ['NONE'] });

  // Pre-birth: referred six weeks before the year end, due two months after it, assessment open.
  const preBirth = referral('C007', at(R, -30), { decision: 'single-assessment', after: 1 }, { referrerType: 'health', recorded: { C007: { primaryNeedCode: 'N1' } } });
  assessment(preBirth, 'C007', undefined);
  child('C007', 'pre-birth (unborn at the reference date), assessment open', { sex: 'U', expectedPersonBirthDate: shiftLocalDate(R, 60), upnUnknown: 'UN6', ethnicity: 'NOBT', disabilities: ['NONE'] });

  // Open at the year end: referred four weeks before it, assessment running.
  const open = referral('C008', at(R, -20), { decision: 'single-assessment', after: 1 }, { referrerType: 'family', recorded: { C008: { primaryNeedCode: 'N2' } } });
  assessment(open, 'C008', undefined);
  child('C008', 'open at the year end, assessment running', { sex: 'M', personBirthDate: years(2), upnUnknown: 'UN1', ethnicity: 'WIRT', disabilities: ['HEAR'] });

  // Closed episodes: an episode closed after assessment with early help (RC9), then a new referral, NFA at duty.
  const first = referral('C009', at(S, 30), { decision: 'single-assessment', after: 1 }, { referrerType: 'self', recorded: { C009: { primaryNeedCode: 'N6', assessmentFactors: ['14A', '13A'] } } });
  assessment(first, 'C009', 18, 'early-help');
  referral('C009', at(S, 150), { decision: 'information-and-advice', after: 1 }, { referrerType: 'local-authority' });
  child('C009', 'two episodes: closed after assessment (early help), then NFA at duty', { sex: 'M', personBirthDate: years(16), upnUnknown: 'UN3', ethnicity: 'REFU', disabilities: ['NONE'] });

  // Left out: a referral closed before the census year, and a child the case system sent nothing for.
  referral('C010', at(S, -60), { decision: 'no-further-action', after: 1 });
  child('C010', 'left out: no activity in the census year', { sex: 'F', personBirthDate: years(5), upnUnknown: 'UN1', ethnicity: 'WBRI', disabilities: ['NONE'] });
  referral('C011', at(S, 70), { decision: 'no-further-action', after: 1 });
  scenarios.C011 = 'left out: no identifiers supplied';

  return { censusYear, period, calendar, referrals, children, scenarios };
}
