import { describe, expect, it } from 'vitest';
import { buildWorkingCalendar } from '../../activities/calendar';
import {
  ageInYears,
  checklistEvidence,
  childReceivesOutcome,
  completionDue,
  emptyEvidence,
  eventMisfit,
  extensionPromptKind,
  isHomeless16Or17,
  isLateRecording,
  isSchoolAge,
  signOffRefusal,
  timescaleWorkingDays,
  visitDue,
  workingDaysBefore,
  type AssessmentEvidence,
  type SignOffDecision,
} from '../../domain/assessment-rules';
import { defaultPolicy } from '../../domain/policy';
import { checklistItems, decisionSchemas } from '../../domain/prompts';
import { workingDaysBetween } from '../../domain/working-days';

const calendar = buildWorkingCalendar({ region: 'england-and-wales', timeZone: 'Europe/London', fromYear: 2025, toYear: 2027 });
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

const allMet = Object.fromEntries(checklistItems.map((item) => [item, { met: true as const }])) as SignOffDecision['checklist'];
const signOff = (overrides: Partial<SignOffDecision> = {}): SignOffDecision => ({
  decision: 'sign-off',
  promptId: 'P-1',
  rationale: 'manager comment',
  decidedBy: 'MGR-1',
  decidedAt: '2026-11-30T10:00:00Z',
  outcome: 'child-in-need-plan',
  determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false },
  checklist: allMet,
  primaryNeedCode: 'N1',
  assessmentFactors: ['3B'],
  ...overrides,
});
const fullEvidence = (): AssessmentEvidence => ({
  ...emptyEvidence(['C-1', 'C-2']),
  childSeen: [{ eventId: 'EV-1', occurredAt: '2026-11-24T10:00:00Z', seenAlone: true, viewsRecorded: true, immediateConcerns: false }],
  homeVisits: [{ eventId: 'EV-2', occurredAt: '2026-11-24T10:00:00Z', bedroomSeen: true }],
  parentsSeen: [{ eventId: 'EV-3', occurredAt: '2026-11-24T10:00:00Z', parentRef: 'P-1', relationship: 'mother', viewsRecorded: true }],
  agencyInformation: [{ eventId: 'EV-4', occurredAt: '2026-11-24T10:00:00Z', agency: 'health' }],
  analyses: [{ eventId: 'EV-5', occurredAt: '2026-11-25T10:00:00Z', sourceCount: 2 }],
});

describe('assessment rules (pure)', () => {
  it('R-4 the completion clock runs from the referral date: brief = 15, complex = 45 working days', () => {
    const received = at('2026-09-01T09:00:00Z');
    const brief = completionDue(calendar, defaultPolicy, received, timescaleWorkingDays(defaultPolicy, 'brief'));
    expect(workingDaysBetween(calendar, received, brief.completionDueAt)).toBe(15);
    const complex = completionDue(calendar, defaultPolicy, received, timescaleWorkingDays(defaultPolicy, 'complex'));
    expect(iso(complex.completionDueAt)).toBe('2026-11-03T10:00:00.000Z');
  });

  it('R-5 a timescale lies between 15 and 45 working days (the allocation schema refuses others)', () => {
    expect(timescaleWorkingDays(defaultPolicy, 'brief', 30)).toBe(30);
    const base = { decision: 'allocate', promptId: 'P-1', rationale: 'r', decidedBy: 'MGR-1', decidedAt: '2026-11-23T10:00:00Z', socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief' };
    expect(decisionSchemas.allocation.safeParse({ ...base, timescaleWorkingDays: 14 }).success).toBe(false);
    expect(decisionSchemas.allocation.safeParse({ ...base, timescaleWorkingDays: 46 }).success).toBe(false);
    expect(decisionSchemas.allocation.safeParse({ ...base, timescaleWorkingDays: 45 }).success).toBe(true);
  });

  it('R-6 visit due: S47 24 hours, S17 5 working days from allocation, or the manager’s own timescale', () => {
    const allocated = at('2026-11-20T10:00:00Z'); // a Friday
    expect(iso(visitDue(calendar, defaultPolicy, 'S47', allocated))).toBe('2026-11-21T10:00:00.000Z');
    expect(iso(visitDue(calendar, defaultPolicy, 'S17', allocated))).toBe('2026-11-27T10:00:00.000Z');
    expect(iso(visitDue(calendar, defaultPolicy, 'S17', allocated, { hours: 2 }))).toBe('2026-11-20T12:00:00.000Z');
    expect(iso(visitDue(calendar, defaultPolicy, 'S17', allocated, { workingDays: 1 }))).toBe('2026-11-23T10:00:00.000Z');
  });

  it('R-11 school age comes from the case system, else from the date of birth (5 to 16)', () => {
    expect(isSchoolAge({ childRef: 'C-1', schoolAge: true }, '2026-11-23')).toBe(true);
    expect(isSchoolAge({ childRef: 'C-1', dateOfBirth: '2016-01-01' }, '2026-11-23')).toBe(true);
    expect(isSchoolAge({ childRef: 'C-1', dateOfBirth: '2023-01-01' }, '2026-11-23')).toBe(false);
    expect(isSchoolAge({ childRef: 'C-1', expectedDeliveryDate: '2027-03-01' }, '2026-11-23')).toBe(false);
    expect(isSchoolAge({ childRef: 'C-1' }, '2026-11-23')).toBeUndefined();
  });

  it('R-16 recording later than 2 working days after the event is late', () => {
    expect(isLateRecording(calendar, defaultPolicy, '2026-11-23T10:00:00Z', '2026-11-25T10:00:00Z')).toBe(false);
    expect(isLateRecording(calendar, defaultPolicy, '2026-11-23T10:00:00Z', '2026-11-26T10:00:00Z')).toBe(true);
    expect(isLateRecording(calendar, defaultPolicy, '2026-11-20T10:00:00Z', '2026-11-24T10:00:00Z')).toBe(false); // over a weekend
    expect(isLateRecording(calendar, defaultPolicy, '2026-11-23T10:00:00Z')).toBe(false);
  });

  it('R-18 a brief assessment is offered extension to complex ahead of its deadline', () => {
    const received = at('2026-11-02T09:00:00Z');
    const due = completionDue(calendar, defaultPolicy, received, 15).completionDueAt;
    expect(extensionPromptKind(calendar, 'brief', received, due)).toBe('extend-to-complex');
    const warning = workingDaysBefore(calendar, due, defaultPolicy.extensionWarningWorkingDays);
    expect(workingDaysBetween(calendar, warning, due)).toBe(5);
    expect(warning).toBeLessThan(due);
  });

  it('R-19 a complex assessment, or any at the 45-day maximum, asks to exceed the timescale', () => {
    const received = at('2026-11-02T09:00:00Z');
    const due45 = completionDue(calendar, defaultPolicy, received, 45).completionDueAt;
    expect(extensionPromptKind(calendar, 'complex', received, due45)).toBe('exceed-timescale');
    expect(extensionPromptKind(calendar, 'brief', received, due45)).toBe('exceed-timescale');
  });

  it('R-20 a pre-birth assessment completes 4 weeks before the expected delivery date when that is earlier', () => {
    const received = at('2026-11-02T09:00:00Z');
    const early = completionDue(calendar, defaultPolicy, received, 45, '2026-12-20');
    expect(iso(early.preBirthDueAt!)).toBe('2026-11-22T00:00:00.000Z');
    expect(early.completionDueAt).toBe(early.preBirthDueAt);
    const late = completionDue(calendar, defaultPolicy, received, 45, '2027-06-01');
    expect(late.completionDueAt).toBe(late.normalDueAt);
  });

  it('R-21 refuses a sign-off with an item unanswered, or marked met where the record does not show it', () => {
    const missing = { ...allMet } as Partial<SignOffDecision['checklist']>;
    delete missing['analysis-triangulated'];
    expect(signOffRefusal(signOff({ checklist: missing as SignOffDecision['checklist'] }), fullEvidence(), false)).toMatch(/missing: analysis-triangulated/);
    const thin = { ...fullEvidence(), analyses: [{ eventId: 'EV-5', occurredAt: '2026-11-25T10:00:00Z', sourceCount: 1 }], homeVisits: [] };
    const refusal = signOffRefusal(signOff(), thin, false);
    expect(refusal).toMatch(/analysis-triangulated/);
    expect(refusal).toMatch(/home-visited-and-bedroom-seen/);
    const notMet = { ...allMet, 'analysis-triangulated': { met: false as const, reason: 'one source only' }, 'home-visited-and-bedroom-seen': { met: false as const, reason: 'no access' } };
    expect(signOffRefusal(signOff({ checklist: notMet }), thin, false)).toBeUndefined();
    expect(signOffRefusal(signOff(), fullEvidence(), false)).toBeUndefined();
    expect(checklistEvidence(emptyEvidence([]))['child-seen-alone-and-views-recorded'].shown).toBe(false);
  });

  it('R-24 the child receives the outcome from age 12', () => {
    expect(childReceivesOutcome({ childRef: 'C-1', dateOfBirth: '2014-11-23' }, '2026-11-23')).toBe(true);
    expect(childReceivesOutcome({ childRef: 'C-1', dateOfBirth: '2014-11-24' }, '2026-11-23')).toBe(false);
    expect(childReceivesOutcome({ childRef: 'C-1' }, '2026-11-23')).toBe(false);
  });

  it('R-28 a homeless 16 or 17 year old needs section 20 considered and accommodation determined', () => {
    expect(ageInYears('2010-06-01', '2026-11-23')).toBe(16);
    expect(isHomeless16Or17({ childRef: 'C-1', dateOfBirth: '2010-06-01', homelessOrAtRisk: true }, '2026-11-23')).toBe(true);
    expect(isHomeless16Or17({ childRef: 'C-1', dateOfBirth: '2008-06-01', homelessOrAtRisk: true }, '2026-11-23')).toBe(false);
    expect(isHomeless16Or17({ childRef: 'C-1', dateOfBirth: '2010-06-01' }, '2026-11-23')).toBe(false);
    expect(signOffRefusal(signOff(), fullEvidence(), true)).toMatch(/R-28/);
    expect(signOffRefusal(signOff({ section20Considered: true }), fullEvidence(), true)).toBeUndefined();
  });

  it('says which events fit which stage', () => {
    expect(eventMisfit('home-visited', 'awaiting-allocation', false)).toMatch(/needs an allocated assessment/);
    expect(eventMisfit('home-visited', 'in-progress', false)).toBeUndefined();
    expect(eventMisfit('home-visited', 'awaiting-sign-off', false)).toMatch(/returns it to the worker/);
    expect(eventMisfit('child-seen', 'awaiting-allocation', true)).toBeUndefined();
    expect(eventMisfit('assessment-submitted', 'awaiting-sign-off', false)).toMatch(/only an assessment in progress/);
    expect(eventMisfit('new-information', 'in-progress', false)).toMatch(/completed assessment/);
    expect(eventMisfit('new-information', 'completed', false)).toBeUndefined();
    expect(eventMisfit('significant-harm-suspected', 'completed', false)).toMatch(/R-25/);
    expect(eventMisfit('crime-suspected', 'completed', false)).toBeUndefined();
  });
});
