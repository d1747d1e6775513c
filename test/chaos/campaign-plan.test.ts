import { describe, expect, it } from 'vitest';
import { caseScenario, checkDeliveries, expectedMeanings, faultPlan, meaningKey, meaningOfDelivery, type AcceptedDelivery } from '../../scripts/chaos/plan';
import { createRng, hash32 } from '../../scripts/chaos/prng';
import { deriveFaultFigures, failures, firstAtOrAfter, formatReport, percentile, type CampaignSummary, type FaultRecord } from '../../scripts/chaos/report';
import { faultKinds, loadChaosSettings } from '../../scripts/chaos/settings';

const body = (extra: Record<string, unknown>) => ({ channel: 'notification', workflowId: 'assessment-REF-1-C-1', reason: 'assessment-outcome', recipient: 'family', rule: 'R-24', ...extra });
const delivery = (key: string, content: Record<string, unknown>, at = 0): AcceptedDelivery => ({
  idempotencyKey: key,
  body: { idempotencyKey: key, ...content },
  raw: JSON.stringify({ idempotencyKey: key, ...content }),
  at,
});
const family = meaningOfDelivery(body({}));

/** The fault campaign's pure parts (scripts/chaos): what a seed decides, and how deliveries are judged. */
describe('fault campaign: what the seed decides', () => {
  it('the same seed gives the same faults and cases; another seed does not', () => {
    const take = (seed: number) => {
      const rng = createRng(seed);
      const plan = faultPlan(rng.fork('faults'), faultKinds, { min: 3, max: 8 });
      const faults = Array.from({ length: 12 }, () => plan.next().value);
      const cases = Array.from({ length: 20 }, (_, index) => caseScenario(rng.fork('cases'), 'S1', index + 1));
      return { faults, cases };
    };
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    expect(hash32('ci-1')).toBe(hash32('ci-1'));
  });

  it('every round of faults holds each enabled kind (the worker twice), gaps and outages within their ranges', () => {
    const plan = faultPlan(createRng(7), faultKinds, { min: 3, max: 8 });
    const faults = Array.from({ length: 50 }, () => plan.next().value as NonNullable<ReturnType<typeof plan.next>['value']>);
    for (let round = 0; round < 10; round += 1) {
      const kinds = faults.slice(round * 5, round * 5 + 5).map((fault) => fault.kind).sort();
      expect(kinds).toEqual(['api-kill', 'receiver-outage', 'temporal-kill', 'worker-kill', 'worker-kill']);
    }
    expect(faults.every((fault) => fault.gapMs >= 3000 && fault.gapMs <= 8000)).toBe(true);
    expect(faults.filter((fault) => fault.kind === 'receiver-outage').every((fault) => fault.downMs >= 5000 && fault.downMs <= 25_000)).toBe(true);
    expect(faults.map((fault) => fault.index)).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
    expect(faultPlan(createRng(7), [], { min: 1, max: 2 }).next().done).toBe(true);
  });

  it('cases mix the scenarios: about a fifth with a strategy discussion, some with a deadline during the run', () => {
    const rng = createRng(1);
    const cases = Array.from({ length: 1000 }, (_, index) => caseScenario(rng, 'S1', index + 1));
    const share = (kind: string) => cases.filter((scenario) => scenario.kind === kind).length / cases.length;
    expect(share('s47')).toBeGreaterThan(0.15);
    expect(share('s47')).toBeLessThan(0.25);
    expect(share('deadline')).toBeGreaterThan(0.05);
    expect(cases.every((scenario) => /^REF-S1-\d+$/.test(scenario.referralId))).toBe(true);
    expect(cases.filter((scenario) => scenario.kind === 'deadline').every((scenario) => (scenario.dutyDueAfterMs ?? 0) >= 15_000)).toBe(true);
  });

  it('an s47 case expects the strategy discussion and enquiry records; an anonymous referrer and a child under 12 get no outcome', () => {
    const scenario = { ...caseScenario(createRng(3), 'S1', 9), kind: 's47' as const, referrerType: 'anonymous' as const, childAge: 8 as const, crimeSuspected: false, outcome: 'early-help' as const };
    delete scenario.needsService;
    const expected = expectedMeanings(scenario).map(meaningKey);
    expect(expected).toContain('case-record|strategy-REF-S1-9.C-1.1|strategy-discussion-outcome|||');
    expect(expected).toContain('case-record|s47-REF-S1-9.C-1.1|section-47-outcome|||');
    expect(expected).toContain('notification|strategy-REF-S1-9.C-1.1|strategy-discussion-called|manager|R-26|');
    expect(expected).toContain('notification|assessment-REF-S1-9.C-1|assessment-outcome|family|R-24|');
    expect(expected.some((meaning) => meaning.includes('|child|') || meaning.includes('|referrer|'))).toBe(false);
    expect(new Set(expected).size).toBe(expected.length);
  });
});

describe('fault campaign: judging deliveries', () => {
  it('a redelivery under the same key is not a duplicate; the same meaning under two keys is', () => {
    const redelivered = checkDeliveries([family], ['k1'], [delivery('k1', body({})), delivery('k1', body({}))]);
    expect(redelivered).toMatchObject({ redeliveries: 1, distinctKeys: 1, duplicateMeanings: [], lostMeanings: [], lostKeys: [], keyConflicts: [] });
    const duplicated = checkDeliveries([family], ['k1', 'k2'], [delivery('k1', body({})), delivery('k2', body({}))]);
    expect(duplicated.duplicateMeanings).toEqual([{ meaning: family, keys: ['k1', 'k2'] }]);
  });

  it('finds losses by meaning and by key, bodies that differ under one key, and deliveries nobody expected', () => {
    const check = checkDeliveries([family, 'case-record|assessment-REF-1-C-1|allocation|||'], ['k1', 'k9'], [
      delivery('k1', body({})),
      delivery('k1', body({ rule: 'R-99' })),
      delivery('k3', body({ recipient: 'police' })),
    ]);
    expect(check.lostMeanings).toEqual(['case-record|assessment-REF-1-C-1|allocation|||']);
    expect(check.lostKeys).toEqual(['k9']);
    expect(check.keyConflicts).toEqual(['k1']);
    expect(check.unexpected).toEqual([meaningOfDelivery(body({ recipient: 'police' }))]);
  });

  it('a case record means its workflow and kind', () => {
    expect(meaningOfDelivery({ channel: 'case-record', workflowId: 'referral-REF-1', kind: 'duty-decision', data: { any: 1 } })).toBe('case-record|referral-REF-1|duty-decision|||');
  });
});

describe('fault campaign: figures and settings', () => {
  it('recovery: the next write after the restart, and when the receiver outage backlog arrived', () => {
    expect(firstAtOrAfter([10, 20, 30], 15)).toBe(20);
    expect(firstAtOrAfter([10, 20, 30], 31)).toBeUndefined();
    expect(percentile([5, 1, 3], 50)).toBe(3);
    const faults: FaultRecord[] = [
      { index: 1, kind: 'worker-kill', downMs: 1000, startedAt: 100, restoredAt: 1100 },
      { index: 2, kind: 'receiver-outage', downMs: 500, startedAt: 2000, restoredAt: 2500 },
    ];
    const refused = [
      { idempotencyKey: 'a', at: 2100, why: 'outage' },
      { idempotencyKey: 'b', at: 2400, why: 'outage' },
    ];
    deriveFaultFigures(faults, [50, 900, 1500, 3000], refused, [delivery('a', body({}), 2600), delivery('b', body({}), 4500)]);
    expect(faults[0]?.nextWriteAfterMs).toBe(1400);
    expect(faults[1]).toMatchObject({ refused: 2, backlogDeliveredAfterMs: 2000 });
  });

  it('any loss, duplicate or stuck case fails the campaign, and the table says the PostgreSQL stop is not applicable', () => {
    const clean: CampaignSummary = {
      seed: '1',
      cases: 1,
      concurrency: 1,
      faults: [],
      unplannedExits: { worker: 0, api: 0, temporal: 0 },
      casesByKind: { s17: 1 },
      started: 1,
      completed: 1,
      stuck: [],
      wrongFinalState: [],
      deliveries: checkDeliveries([family], ['k1'], [delivery('k1', body({}))]),
      invalidDeliveries: 0,
      historiesReadable: 1,
      historiesChecked: 1,
      workflows: 2,
      workflowsByType: { referralWorkflow: 1, assessmentWorkflow: 1 },
      taskFailures: [],
      replay: { replayed: 2, failures: [] },
      taskTimeouts: 0,
      unreadableHistories: 0,
      missingWorkflows: [],
      unexplainedWorkflows: [],
      pendingOutbound: 0,
      deadlines: { total: 0, duringOutage: 0, fired: 0 },
      rejectedEvents: [],
      driver: {
        requests: 1,
        writes: 1,
        retries: { writes: 0, reads: 0 },
        retryCauses: {},
        gaveUp: 0,
        duplicateEventsOnRetry: 0,
        duplicateEventsFirstAttempt: 0,
        decisionsAppliedBeforeLostAnswer: 0,
        decisionsRepeatedByKey: 0,
        refusedEvents: [],
        unexpectedAnswers: [],
      },
      wallMs: 1000,
      phases: { drivingMs: 1, settlingMs: 1, verifyingMs: 1 },
    };
    expect(failures(clean)).toEqual([]);
    expect(formatReport(clean)).toMatch(/PostgreSQL hard stop\s+n\/a/);
    const lossy = { ...clean, stuck: [{ referralId: 'REF-1', why: 'x' }], deliveries: checkDeliveries([family], ['k1', 'k2'], [delivery('k1', body({})), delivery('k2', body({}))]) };
    expect(failures(lossy)).toEqual(['1 stuck case(s)', '1 duplicate(s) by meaning']);
  });

  it('settings: defaults, a printed seed, and a wrong value named', () => {
    const settings = loadChaosSettings({ CHAOS_SEED: 'ci_1', CHAOS_CASES: '30' });
    expect(settings).toMatchObject({ cases: 30, concurrency: 4, seed: 'ci_1', faultKinds: [...faultKinds], faultGapSeconds: { min: 6, max: 15 } });
    expect(loadChaosSettings({ CHAOS_SEED: '12345' }).seedNumber).toBe(12345);
    expect(loadChaosSettings({}).seed).toMatch(/^\d+$/);
    expect(loadChaosSettings({ CHAOS_FAULT_KINDS: 'none' }).faultKinds).toEqual([]);
    expect(() => loadChaosSettings({ CHAOS_CASES: 'many' })).toThrow(/CHAOS_CASES/);
    expect(() => loadChaosSettings({ CHAOS_FAULT_KINDS: 'postgres-stop' })).toThrow(/postgres-stop/);
  });
});
