import { describe, expect, it } from 'vitest';
import { buildWorkingCalendar } from '../../activities/calendar';
import { censusChildrenFromEngine, suppliedChildSchema, type ReferralSource, type SuppliedChild } from '../../domain/cin-census/from-engine';

const calendar = buildWorkingCalendar({ region: 'england-and-wales', timeZone: 'Europe/London', fromYear: 2025, toYear: 2026 });
const supplied: SuppliedChild = { sex: 'F', personBirthDate: '2018-02-01', upnUnknown: 'UN2', ethnicity: 'WBRI', disabilities: ['NONE'] };

const referral = (id: string, receivedAt: string, decision?: [string, string]): ReferralSource => ({
  referral: { referralId: id, receivedAt, stage: 'closed', dutyDecision: decision && { decision: decision[0], decidedBy: 'MGR-1', decidedAt: decision[1] }, record: [] },
  referrerType: 'police',
  childRefs: ['C1'],
  assessments: [],
  section47s: [],
});

const run = (referrals: ReferralSource[], children: Record<string, SuppliedChild> = { C1: supplied }) =>
  censusChildrenFromEngine({ censusYear: '2025-26', calendar, referrals, children });

describe('CIN census from the engine state', () => {
  it('an NFA at duty: referral date, source from referrerType, ReferralNFA, nothing else', () => {
    const out = run([referral('R1', '2025-06-02T09:00:00Z', ['no-further-action', '2025-06-03T09:00:00Z'])]);
    expect(out.children[0]?.child.cinDetails).toEqual([
      { referralDate: '2025-06-02', referralSource: '6', referralNfa: true, assessments: [], cinPlanDates: [], section47s: [], childProtectionPlans: [] },
    ]);
    expect(out.warnings).toEqual([]);
  });

  it('a section 17 assessment: starts at the duty decision, signed off with the supplied factors, closed RC8 at sign-off; local dates', () => {
    const source = referral('R2', '2025-07-01T22:30:00Z', ['single-assessment', '2025-07-02T09:00:00Z']);
    source.referralSourceCode = '2A';
    source.assessments.push({ childRef: 'C1', stage: 'completed', allocatedAt: '2025-07-02T10:00:00Z', completedAt: '2025-07-30T15:00:00Z', outcome: 'no-further-action' });
    source.recorded = { C1: { primaryNeedCode: 'N9', assessmentFactors: ['21'] } };
    const episode = run([source]).children[0]?.child.cinDetails[0];
    expect(episode).toMatchObject({
      referralDate: '2025-07-01', // 23:30 in London, BST
      referralSource: '2A',
      primaryNeedCode: 'N9',
      referralNfa: false,
      closureDate: '2025-07-30',
      reasonForClosure: 'RC8',
      assessments: [{ actualStartDate: '2025-07-02', authorisationDate: '2025-07-30', factors: ['21'] }],
    });
  });

  it('a section 47: the ICPC target 15 working days after the start (bank holiday skipped), the conference date; RC7 when closed after it', () => {
    const source = referral('R3', '2025-08-11T09:00:00Z', ['strategy-discussion', '2025-08-11T10:00:00Z']);
    source.assessments.push({ childRef: 'C1', stage: 'completed', allocatedAt: '2025-08-11T11:00:00Z', completedAt: '2025-09-15T10:00:00Z', outcome: 'no-further-action' });
    source.section47s.push({ childRef: 'C1', sequence: 1, startedAt: '2025-08-12T10:00:00Z', stage: 'concluded', outcome: 'not-substantiated', record: [{ at: '2025-08-14T10:00:00Z', source: 'decision', type: 'not-substantiated', status: 'applied' }] });
    source.recorded = { C1: { primaryNeedCode: 'N1', assessmentFactors: ['18B'] } };
    const episode = run([source]).children[0]?.child.cinDetails[0];
    // Tuesday 12 August + 15 working days, Monday 25 August (summer bank holiday) skipped: Wednesday 3 September.
    expect(episode?.section47s).toEqual([{ actualStartDate: '2025-08-12', initialCpcTarget: '2025-09-03', dateOfInitialCpc: undefined, icpcNotRequired: true }]);
    expect(episode?.reasonForClosure).toBe('RC7');
  });

  it('as at the reference date: what happened after it has not happened yet', () => {
    const source = referral('R4', '2026-03-02T10:00:00Z', ['single-assessment', '2026-03-03T10:00:00Z']);
    source.assessments.push({ childRef: 'C1', stage: 'completed', allocatedAt: '2026-03-03T11:00:00Z', completedAt: '2026-04-02T10:00:00Z', outcome: 'no-further-action' });
    source.recorded = { C1: { primaryNeedCode: 'N4', assessmentFactors: ['4B'] } };
    const episode = run([source]).children[0]?.child.cinDetails[0];
    expect(episode?.assessments).toEqual([{ actualStartDate: '2026-03-03', authorisationDate: undefined }]);
    expect(episode?.closureDate).toBeUndefined();
  });

  it('leaves out children with no activity in the year, with no identifiers, or without a valid LAchildID; warns of missing items', () => {
    const before = referral('R5', '2025-01-06T10:00:00Z', ['no-further-action', '2025-01-07T10:00:00Z']);
    const noIds = { ...referral('R6', '2025-05-06T10:00:00Z', ['no-further-action', '2025-05-07T10:00:00Z']), childRefs: ['C2'] };
    const badId = { ...referral('R7', '2025-05-06T10:00:00Z', ['no-further-action', '2025-05-07T10:00:00Z']), childRefs: ['C-3'] };
    const open = { ...referral('R8', '2025-09-01T10:00:00Z', ['single-assessment', '2025-09-02T10:00:00Z']), childRefs: ['C4'] };
    open.assessments.push({ childRef: 'C4', stage: 'completed', allocatedAt: '2025-09-02T11:00:00Z', completedAt: '2025-09-20T10:00:00Z', outcome: 'child-in-need-plan' });
    const out = run([before, noIds, badId, open], { C1: supplied, 'C-3': supplied, C4: supplied });
    expect(out.leftOut).toEqual([
      { childRef: 'C-3', reason: 'childRef is not a valid LAchildID and none was supplied' },
      { childRef: 'C1', reason: 'no activity in the census year' },
      { childRef: 'C2', reason: 'no identifiers supplied' },
    ]);
    expect(out.children.map((entry) => entry.childRef)).toEqual(['C4']);
    expect(out.warnings.map((warning) => warning.item).sort()).toEqual(['AssessmentFactors', 'PrimaryNeedCode']);
  });

  it('checks what the case system supplies against the census rules', () => {
    expect(suppliedChildSchema.safeParse(supplied).success).toBe(true);
    expect(suppliedChildSchema.safeParse({ ...supplied, upn: 'A123456789012' }).success).toBe(false); // UPN and a reason
    expect(suppliedChildSchema.safeParse({ ...supplied, personBirthDate: undefined, expectedPersonBirthDate: '2026-05-01' }).success).toBe(false); // unborn, not U
    expect(suppliedChildSchema.safeParse({ ...supplied, disabilities: ['NONE', 'HEAR'] }).success).toBe(false);
    expect(suppliedChildSchema.safeParse({ ...supplied, ethnicity: 'XXXX' }).success).toBe(false);
    expect(suppliedChildSchema.safeParse({ ...supplied, laChildId: 'has-hyphen' }).success).toBe(false);
  });
});
