/**
 * A census year of cases driven through the HTTP API on the real dev server, exported by
 * POST /v1/reports/cin-census, and judged by the community validator (csc-validator-be-cin,
 * ruleset cin2025_26); then the timeliness report and the export are shown to count the
 * same cases the same way (the DfE measures).
 *
 * The year is the last census year that has ended, so every case is entered as a case
 * system migrating last year's work enters it: referrals received in the past, events and
 * decisions dated when they happened (the API's back-date window is opened for this run:
 * API_BACKDATE_WINDOW_HOURS). Dates are counted in working days, so any day's run lands
 * every step on a working day.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkingCalendar } from '../../activities/calendar';
import { censusPeriod } from '../../domain/cin-census/codes';
import { censusWorkingDays, DFE_ASSESSMENT_WORKING_DAYS, DFE_INITIAL_CONFERENCE_WORKING_DAYS } from '../../domain/cin-census/measures';
import { assessmentWorkflowId } from '../../domain/ids';
import { checklistItems } from '../../domain/prompts';
import { shiftLocalDate, startOfLocalDay, type WorkingCalendar } from '../../domain/working-days';
import { eventually, startApi, type ApiUnderTest } from '../api/support';
import { censusYearClock, lastEndedCensusYear } from '../support/cin-census-year';
import { CIN_RULESET, childErrors, runCinValidator, type ValidatorReport } from '../support/cin-validator';
import { FIRST_VISIT_INFORMATION, procedureFieldwork } from '../support/procedure-fieldwork';
import { childInNeedPlan } from '../support/child-in-need-plan-example';

const EXPECTED_LA_QUERIES: Record<string, string> = {
  // As in validator.test.ts: nine children cannot use eight distinct disability codes; a real authority's return does.
  '2887Q': 'a small return uses fewer than 8 distinct disability codes',
};

interface Prompt {
  promptId: string;
  kind: string;
}

let api: ApiUnderTest;
let system: string;
let manager: string;
let operations: string;
const team = `TEAM-CIN-${Date.now().toString(36).toUpperCase()}`;
const censusYear = lastEndedCensusYear(new Date());
const period = censusPeriod(censusYear);
const endYear = Number(period.collectionYear);
const calendar: WorkingCalendar = buildWorkingCalendar({ region: 'england-and-wales', timeZone: 'Europe/London', fromYear: endYear - 2, toYear: endYear + 1 });
const { at, after, dateOf } = censusYearClock(calendar);
const S = period.start;
const R = period.referenceDate;
const runTag = Date.now().toString(36).toUpperCase();
let eventSerial = 0;

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function openPromptOf(workflowId: string, kind: string): Promise<Prompt> {
  return eventually(async () => {
    const response = await api.call('GET', `/v1/assessments/${workflowId}`, { token: manager });
    if (response.status !== 200) return undefined;
    const state = (await response.json()) as { openPrompts: Prompt[] };
    return state.openPrompts.find((prompt) => prompt.kind === kind);
  }, 30_000);
}

async function decide(workflowId: string, kind: string, decidedAt: string, body: Record<string, unknown>): Promise<void> {
  const prompt = await openPromptOf(workflowId, kind);
  await json(await api.call('POST', `/v1/prompts/${prompt.promptId}/decision`, { token: manager, body: { rationale: `${kind}: recorded from the case file`, decidedAt, ...body } }), 200);
}

async function send(workflowId: string, occurredAt: string, event: Record<string, unknown>): Promise<void> {
  eventSerial += 1;
  await json(
    await api.call('POST', `/v1/assessments/${workflowId}/events`, { token: system, body: { eventId: `EV-${runTag}-${eventSerial}`, occurredAt, actor: 'SW-4', ...event } }),
    202,
  );
}

async function refer(childRef: string, receivedAt: string, extra: Record<string, unknown> = {}): Promise<string> {
  const referralId = `REF-${runTag}-${childRef}-${receivedAt.slice(0, 10).replaceAll('-', '')}`;
  await json(
    await api.call('POST', '/v1/referrals', {
      token: system,
      body: { referralId, receivedAt, referrerType: 'education', childProtectionConcern: false, team, children: [{ childRef, dateOfBirth: `${endYear - 9}-06-15` }], ...extra },
    }),
    201,
  );
  return referralId;
}

async function dutyDecision(referralId: string, decision: string, decidedAt: string): Promise<void> {
  await decide(`referral-${referralId}`, 'duty-decision', decidedAt, { decision });
}

/** Allocation (with the primary need, where known then) and the fieldwork a sign-off's checklist needs, from `start` on. */
async function fieldwork(assessmentId: string, start: string, track: 'S17' | 'S47', primaryNeedCode?: string): Promise<void> {
  await decide(assessmentId, 'allocation', after(start, 0), { decision: 'allocate', socialWorkerId: 'SW-4', track, assessmentType: 'complex', ...(primaryNeedCode ? { primaryNeedCode } : {}) });
  await send(assessmentId, after(start, 1), { type: 'child-seen', seenAlone: true, viewsRecorded: true });
  await send(assessmentId, after(start, 2), { type: 'home-visited', bedroomSeen: true, informationGiven: FIRST_VISIT_INFORMATION });
  await send(assessmentId, after(start, 2), { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true });
  await send(assessmentId, after(start, 3), { type: 'agency-information-received', agency: 'education' });
  await send(assessmentId, after(start, 4), { type: 'analysis-completed', sources: ['SRC-1', 'SRC-2'] });
  for (const event of procedureFieldwork) await send(assessmentId, after(start, 4), event);
}

async function signOff(assessmentId: string, decidedAt: string, outcome: string, census: { primaryNeedCode: string; assessmentFactors: string[] }, harm = false): Promise<void> {
  await send(assessmentId, new Date(Date.parse(decidedAt) - 2 * 3_600_000).toISOString(), { type: 'assessment-submitted' });
  await decide(assessmentId, 'sign-off', decidedAt, {
    decision: 'sign-off',
    outcome,
    determinations: { childInNeed: outcome === 'child-in-need-plan', significantHarmSuspected: harm, accommodationNeeded: false },
    checklist: Object.fromEntries(checklistItems.map((item) => [item, { met: true }])),
    ...census,
    // R-44: the plan (its reviews ahead of today, whatever date the sign-off carries).
    ...(outcome === 'child-in-need-plan' ? { childInNeedPlan: childInNeedPlan(Date.now()) } : {}),
  });
}

/** A section 47 enquiry from a duty decision calling a strategy discussion; the conference `conferenceAfter` working days after its start. */
async function section47(referralId: string, childRef: string, calledAt: string, outcome: 'initial-child-protection-conference' | 'not-substantiated', conferenceAfter?: number) {
  const assessmentId = assessmentWorkflowId(referralId, childRef);
  const discussionId = await eventually(async () => {
    const response = await api.call('GET', `/v1/assessments/${assessmentId}`, { token: manager });
    if (response.status !== 200) return undefined;
    const state = (await response.json()) as { strategyDiscussions: Array<{ workflowId: string; section47WorkflowId: string }> };
    return state.strategyDiscussions[0];
  }, 30_000);
  const startedAt = after(calledAt, 1);
  await decide(discussionId.workflowId, 'strategy-discussion-outcome', startedAt, { decision: 'section-47-enquiry', attendees: ['police', 'health', 'social-care'] });
  await openPromptOf(discussionId.section47WorkflowId, 'section-47-outcome');
  await send(discussionId.section47WorkflowId, new Date(Date.parse(startedAt) + 2 * 3_600_000).toISOString(), { type: 'child-seen', seenAlone: true, viewsRecorded: true });
  await decide(discussionId.section47WorkflowId, 'section-47-outcome', after(startedAt, 3), { decision: outcome });
  if (conferenceAfter !== undefined) await send(discussionId.section47WorkflowId, after(startedAt, conferenceAfter), { type: 'child-protection-conference-held' });
  return { assessmentId, startedAt };
}

const identifiers = (sex: 'M' | 'F' | 'U', birth: { personBirthDate?: string; expectedPersonBirthDate?: string }, ethnicity: string, disabilities: string[], upnUnknown = 'UN1') => ({
  sex,
  ...birth,
  upnUnknown,
  ethnicity,
  disabilities,
});
const born = (yearsBefore: number) => ({ personBirthDate: `${endYear - yearsBefore}-06-15` });

describe(`CIN census ${censusYear} through the API, judged by the community validator`, () => {
  let children: Record<string, unknown>;
  let summary: { children: number; leftOut: Array<{ childRef: string; reason: string }>; warnings: unknown[] };
  let xml: string;
  let xmlHeaders: Headers;
  let report: ValidatorReport;

  beforeAll(async () => {
    api = await startApi({ backdateWindowHours: 24 * 900 });
    system = await api.token('system', 'CMS-1');
    manager = await api.token('manager', 'MGR-1');
    operations = await api.token('operations', 'OPS-1');

    // C001: NFA at duty.
    const c001 = await refer('C001', at(S, 20), { referrerType: 'police' });
    await dutyDecision(c001, 'no-further-action', after(at(S, 20), 1));

    // C002: section 17, signed off 20 working days after the duty decision, no further action (RC8).
    const c002 = await refer('C002', at(S, 40));
    await dutyDecision(c002, 'single-assessment', after(at(S, 40), 1));
    await fieldwork(assessmentWorkflowId(c002, 'C002'), after(at(S, 40), 1), 'S17');
    await signOff(assessmentWorkflowId(c002, 'C002'), after(at(S, 40), 21), 'no-further-action', { primaryNeedCode: 'N9', assessmentFactors: ['21'] });

    // C003: section 17 out of time (60 working days), child in need plan; the case system closes the episode later (RC7).
    const c003 = await refer('C003', at(S, 60), { referralSourceCode: '3A' });
    await dutyDecision(c003, 'single-assessment', after(at(S, 60), 1));
    await fieldwork(assessmentWorkflowId(c003, 'C003'), after(at(S, 60), 1), 'S17');
    await signOff(assessmentWorkflowId(c003, 'C003'), after(at(S, 60), 61), 'child-in-need-plan', { primaryNeedCode: 'N4', assessmentFactors: ['3B', '4B'] });

    // C004, C005: section 47 with the conference 10 and 22 working days after its start.
    for (const [childRef, conferenceAfter, startAt] of [['C004', 10, 80], ['C005', 22, 100]] as const) {
      const referralId = await refer(childRef, at(S, startAt), { referrerType: 'health', childProtectionConcern: true });
      await dutyDecision(referralId, 'strategy-discussion', at(S, startAt));
      const { assessmentId, startedAt } = await section47(referralId, childRef, at(S, startAt), 'initial-child-protection-conference', conferenceAfter);
      await fieldwork(assessmentId, startedAt, 'S47');
      await signOff(assessmentId, after(startedAt, 25), 'child-in-need-plan', { primaryNeedCode: 'N1', assessmentFactors: ['16A', '3B'] }, true);
    }

    // C006: section 47, not substantiated (no conference); the assessment closes the episode.
    const c006 = await refer('C006', at(S, 120), { childProtectionConcern: true });
    await dutyDecision(c006, 'strategy-discussion', at(S, 120));
    const notRequired = await section47(c006, 'C006', at(S, 120), 'not-substantiated');
    await fieldwork(notRequired.assessmentId, notRequired.startedAt, 'S47');
    await signOff(notRequired.assessmentId, after(notRequired.startedAt, 15), 'no-further-action', { primaryNeedCode: 'N5', assessmentFactors: ['17A'] });

    // C007: pre-birth, referred 30 working days before the year end, assessment open at it.
    const c007 = await refer('C007', at(R, -30), { referrerType: 'health', children: [{ childRef: 'C007', expectedDeliveryDate: shiftLocalDate(R, 60) }] });
    await dutyDecision(c007, 'single-assessment', after(at(R, -30), 1));
    await fieldwork(assessmentWorkflowId(c007, 'C007'), after(at(R, -30), 1), 'S17', 'N1');

    // C008: open at the year end.
    const c008 = await refer('C008', at(R, -20), { referrerType: 'family' });
    await dutyDecision(c008, 'single-assessment', after(at(R, -20), 1));
    await fieldwork(assessmentWorkflowId(c008, 'C008'), after(at(R, -20), 1), 'S17', 'N2');

    // C009: two episodes: closed after assessment with early help (RC9), then NFA at duty.
    const c009 = await refer('C009', at(S, 30), { referrerType: 'self' });
    await dutyDecision(c009, 'single-assessment', after(at(S, 30), 1));
    await fieldwork(assessmentWorkflowId(c009, 'C009'), after(at(S, 30), 1), 'S17');
    await signOff(assessmentWorkflowId(c009, 'C009'), after(at(S, 30), 18), 'early-help', { primaryNeedCode: 'N6', assessmentFactors: ['14A', '13A'] });
    const c009b = await refer('C009', at(S, 150), { referrerType: 'local-authority' });
    await dutyDecision(c009b, 'information-and-advice', after(at(S, 150), 1));

    // C010: closed before the year began; C011: nothing supplied for the child.
    const c010 = await refer('C010', at(S, -60));
    await dutyDecision(c010, 'no-further-action', after(at(S, -60), 1));
    const c011 = await refer('C011', at(S, 70));
    await dutyDecision(c011, 'no-further-action', after(at(S, 70), 1));

    children = {
      C001: identifiers('F', born(9), 'WBRI', ['NONE'], 'UN7'),
      C002: identifiers('M', born(4), 'MWBC', ['NONE']),
      C003: { ...identifiers('M', born(12), 'APKN', ['LD', 'COMM'], 'UN2'), episodes: { [c003]: { closure: { date: dateOf(at(S, 200)), reason: 'RC7' } } } },
      C004: identifiers('F', born(6), 'BAFR', ['NONE'], 'UN5'),
      C005: identifiers('M', born(14), 'WOTH', ['BEH'], 'UN3'),
      C006: identifiers('F', born(10), 'CHNE', ['NONE'], 'UN2'),
      C007: identifiers('U', { expectedPersonBirthDate: shiftLocalDate(R, 60) }, 'NOBT', ['NONE'], 'UN6'),
      C008: identifiers('M', born(2), 'WIRT', ['HEAR']),
      C009: identifiers('M', born(16), 'REFU', ['NONE'], 'UN3'),
      C010: identifiers('F', born(5), 'WBRI', ['NONE']),
    };
    const request = { censusYear, header: { laCode: '201' }, team, children };
    summary = await json(await api.call('POST', '/v1/reports/cin-census', { token: operations, body: request, headers: { accept: 'application/json' } }), 200);
    const response = await api.call('POST', '/v1/reports/cin-census', { token: operations, body: request });
    expect(response.status).toBe(200);
    xmlHeaders = response.headers;
    xml = await response.text();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'cin-census-api-')), 'cin-census.xml');
    writeFileSync(file, xml);
    report = runCinValidator(file, CIN_RULESET);
  }, 900_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('returns every child with activity in the year, and says who was left out and why', () => {
    expect(summary.children).toBe(9);
    expect(summary.leftOut).toEqual([
      { childRef: 'C010', reason: 'no activity in the census year' },
      { childRef: 'C011', reason: 'no identifiers supplied' },
    ]);
    expect(summary.warnings).toEqual([]);
    expect(xmlHeaders.get('content-type')).toMatch(/^application\/xml/);
    expect([xmlHeaders.get('census-children'), xmlHeaders.get('census-left-out')]).toEqual(['9', '2']);
    expect(xml.startsWith('<?xml')).toBe(true);
    expect((xml.match(/<Child>/g) ?? []).length).toBe(9);
    // The engine's codes: chosen at sign-off, mapped from the referrer, or sent as the DfE code.
    expect(xml).toContain('<ReferralSource>3A</ReferralSource>');
    expect(xml).toContain('<PrimaryNeedCode>N4</PrimaryNeedCode>');
    expect(xml).toContain('<ReferralNFA>true</ReferralNFA>');
  });

  it('passes the whole cin2025_26 ruleset with no child-level error or query', () => {
    expect(report.ruleset).toBe('cin2025_26');
    expect(report.crashes).toEqual([]);
    expect(report.children).toBe(9);
    expect(childErrors(report)).toEqual([]);
    expect(report.childLevel).toEqual([]);
    expect(report.laLevel.filter((finding) => finding.kind === 'ERROR')).toEqual([]);
    expect(Object.fromEntries(report.laLevel.map((finding) => [finding.rule, EXPECTED_LA_QUERIES[finding.rule] ?? finding.message]))).toEqual(EXPECTED_LA_QUERIES);
  });

  it('keeps the identifiers the case system sent out of the log, the audit and every workflow', async () => {
    const kept = `${readFileSync(api.logFile, 'utf8')}\n${readFileSync(api.auditFile, 'utf8')}`;
    for (const secret of [`${endYear - 16}-06-15`, 'REFU', 'WIRT', shiftLocalDate(R, 60)]) expect(kept).not.toContain(secret);
    const history = await api.call('GET', `/v1/assessments/${assessmentWorkflowId(`REF-${runTag}-C009-${dateOf(at(S, 30)).replaceAll('-', '')}`, 'C009')}/history?format=raw`, { token: operations });
    expect(history.status).toBe(200);
    const text = await history.text();
    expect(text).not.toContain('REFU');
    expect(text).not.toContain('personBirthDate');
  });

  it('the timeliness report and the census count the same assessments the same way (45 working days from the start)', async () => {
    const fromCensus = new Map<string, { count: number; of: number }>();
    for (const match of xml.matchAll(/<Assessments>\s*<AssessmentActualStartDate>([^<]+)<\/AssessmentActualStartDate>(?:\s*<AssessmentInternalReviewDate>[^<]*<\/AssessmentInternalReviewDate>)?\s*<AssessmentAuthorisationDate>([^<]+)<\/AssessmentAuthorisationDate>/g)) {
      const [, start, authorised] = match as unknown as [string, string, string];
      const days = censusWorkingDays(calendar, new Date(startOfLocalDay(calendar, start) + 12 * 3_600_000).toISOString(), new Date(startOfLocalDay(calendar, authorised) + 12 * 3_600_000).toISOString());
      const month = authorised.slice(0, 7);
      const entry = fromCensus.get(month) ?? { count: 0, of: 0 };
      fromCensus.set(month, { count: entry.count + (days <= DFE_ASSESSMENT_WORKING_DAYS ? 1 : 0), of: entry.of + 1 });
    }
    expect([...fromCensus.values()].reduce((sum, entry) => sum + entry.of, 0)).toBe(6);
    expect([...fromCensus.values()].reduce((sum, entry) => sum + entry.count, 0)).toBe(5);
    const timeliness = await eventually(async () => {
      const response = await api.call('GET', `/v1/reports/timeliness?team=${team}&from=${S.slice(0, 7)}&to=${R.slice(0, 7)}`, { token: operations });
      const body = (await response.json()) as { periods: Array<{ period: string; completed: number; dfe: { count: number; of: number; workingDays: number } }> };
      return body.periods.reduce((sum, period) => sum + period.completed, 0) === 6 ? body : undefined;
    }, 30_000);
    const fromReport = new Map(timeliness.periods.filter((period) => period.dfe.of > 0).map((period) => [period.period, { count: period.dfe.count, of: period.dfe.of }]));
    expect(fromReport).toEqual(fromCensus);
    expect(timeliness.periods[0]?.dfe.workingDays).toBe(DFE_ASSESSMENT_WORKING_DAYS);
  });

  it('the timeliness report and the census count the same initial conferences the same way (15 working days from the section 47 start)', async () => {
    const fromCensus = new Map<string, { count: number; of: number }>();
    for (const match of xml.matchAll(/<S47ActualStartDate>([^<]+)<\/S47ActualStartDate>\s*<InitialCPCtarget>[^<]+<\/InitialCPCtarget>\s*<DateOfInitialCPC>([^<]+)<\/DateOfInitialCPC>/g)) {
      const [, start, held] = match as unknown as [string, string, string];
      const days = censusWorkingDays(calendar, new Date(startOfLocalDay(calendar, start) + 12 * 3_600_000).toISOString(), new Date(startOfLocalDay(calendar, held) + 12 * 3_600_000).toISOString());
      const month = held.slice(0, 7);
      const entry = fromCensus.get(month) ?? { count: 0, of: 0 };
      fromCensus.set(month, { count: entry.count + (days <= DFE_INITIAL_CONFERENCE_WORKING_DAYS ? 1 : 0), of: entry.of + 1 });
    }
    expect([...fromCensus.values()].map((entry) => entry.of).reduce((a, b) => a + b, 0)).toBe(2);
    const timeliness = await eventually(async () => {
      const response = await api.call('GET', `/v1/reports/timeliness?type=section-47-enquiry&team=${team}&from=${S.slice(0, 7)}&to=${R.slice(0, 7)}`, { token: operations });
      const body = (await response.json()) as { periods: Array<{ period: string; completed: number; dfe: { count: number; of: number } }> };
      return body.periods.reduce((sum, period) => sum + period.completed, 0) === 2 ? body : undefined;
    }, 30_000);
    const fromReport = new Map(timeliness.periods.filter((period) => period.dfe.of > 0).map((period) => [period.period, { count: period.dfe.count, of: period.dfe.of }]));
    expect(fromReport).toEqual(fromCensus);
  });

  it('refuses a census to anyone but operations, and names each invalid field', async () => {
    const body = { censusYear, header: { laCode: '201' }, team, children: {} };
    expect((await api.call('POST', '/v1/reports/cin-census', { token: manager, body })).status).toBe(403);
    const invalid = await api.call('POST', '/v1/reports/cin-census', {
      token: operations,
      body: { censusYear: '2025-27', header: { laCode: '20' }, children: { C001: { sex: 'X', ethnicity: 'WBRI', disabilities: [] } } },
    });
    expect(invalid.status).toBe(400);
    const paths = ((await invalid.json()) as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['censusYear', 'header.laCode', 'children.C001.sex', 'children.C001.disabilities']));
  });
});
