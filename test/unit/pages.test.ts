import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../api/config';
import { buildDecisionForm, decisionFromForm, formErrors, schemaOf } from '../../api/pages/decision-form';
import { pageRoutes } from '../../api/pages';
import { principalFromClaims, safeReturnTo } from '../../api/pages/session';
import { slotsOf } from '../../api/prompt-list';
import { openPromptsDueEntries, parseOpenPromptDue, OPEN_PROMPTS_DUE_LIMIT } from '../../domain/prompt-due';
import { checklistItems } from '../../domain/prompts';
import type { RouteContext } from '../../api/context';

const claims = { staffId: 'sub', roles: 'roles', teams: 'teams', allTeams: 'all_teams' };
const oidc = { OIDC_ISSUER_URL: 'https://idp.council.example', OIDC_CLIENT_ID: 'pages', OIDC_CLIENT_SECRET: 'secret', PAGES_BASE_URL: 'https://assessments.council.example' };
const production = { NODE_ENV: 'production', API_JWT_SECRET: 'x'.repeat(40), API_JWT_ISSUER: 'iss', API_JWT_AUDIENCE: 'aud' };

describe('pages: sign-in settings', () => {
  it('production never has the local sign-in: without OpenID Connect the pages are off, saying why', () => {
    const config = loadApiConfig(production);
    expect(config.pages).toBeUndefined();
    expect(config.pagesOff).toMatch(/OIDC_ISSUER_URL/);
    expect(() => pageRoutes({} as RouteContext, { sessionKeys: ['k'.repeat(32)], secureCookies: true, signIn: { mode: 'local' } })).not.toThrow();
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(() => pageRoutes({} as RouteContext, { sessionKeys: ['k'.repeat(32)], secureCookies: true, signIn: { mode: 'local' } })).toThrow(/embedded default only/);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('production with OpenID Connect needs a session secret; cookies are Secure; a partial OIDC setting is refused', () => {
    expect(() => loadApiConfig({ ...production, ...oidc })).toThrow(/PAGES_SESSION_SECRET/);
    const config = loadApiConfig({ ...production, ...oidc, PAGES_SESSION_SECRET: `${'a'.repeat(32)},${'b'.repeat(32)}` });
    expect(config.pages).toMatchObject({ secureCookies: true, sessionKeys: ['a'.repeat(32), 'b'.repeat(32)], signIn: { mode: 'oidc', claims: { staffId: 'sub', roles: 'roles' } } });
    expect(() => loadApiConfig({ ...production, OIDC_ISSUER_URL: oidc.OIDC_ISSUER_URL })).toThrow(/needs all of/);
    expect(() => loadApiConfig({ ...production, ...oidc, PAGES_SESSION_SECRET: 'short' })).toThrow(/at least 32/);
  });

  it("reads a person's roles and teams from the identity provider's claims, and refuses a name as staff id", () => {
    expect(principalFromClaims({ sub: 'MGR-12', roles: ['manager', 'unknown'], teams: ['T1', 'T2'] }, claims)).toEqual({ sub: 'MGR-12', roles: ['manager'], scope: { allTeams: false, teams: ['T1', 'T2'] } });
    expect(principalFromClaims({ sub: 'OPS-3', roles: 'operations', all_teams: true }, claims)).toEqual({ sub: 'OPS-3', roles: ['operations'], scope: { allTeams: true } });
    expect(() => principalFromClaims({ sub: 'jane.doe@council.example', roles: ['manager'], teams: ['T1'] }, claims)).toThrow(/opaque staff id/);
    expect(() => principalFromClaims({ sub: 'MGR-12', roles: ['admin'] }, claims)).toThrow();
  });

  it('returns only to a path on this site after signing in', () => {
    expect(safeReturnTo('/inbox?kind=allocation')).toBe('/inbox?kind=allocation');
    expect(safeReturnTo('//evil.example/x')).toBe('/');
    expect(safeReturnTo('/\\evil.example')).toBe('/');
    expect(safeReturnTo('https://evil.example')).toBe('/');
  });
});

describe('pages: the decision form from the schema', () => {
  it('R-21 builds the sign-off form from its schema: every checklist item met or not, with a reason when not', () => {
    const form = buildDecisionForm('sign-off');
    expect(form.decision.options.map((option) => option.value)).toEqual(['sign-off', 'return-to-worker']);
    const fields = form.decision.options[0]?.fields ?? [];
    expect(fields.map((field) => field.label)).toEqual(expect.arrayContaining(['Outcome', 'Determinations', 'Checklist', 'Withhold from family']));
    const checklist = fields.find((field) => field.label === 'Checklist');
    expect(checklist?.type).toBe('group');
    const items = checklist?.type === 'group' ? checklist.fields : [];
    expect(items).toHaveLength(checklistItems.length);
    const item = items[0];
    expect(item?.type === 'choice' && item.options.map((option) => [option.label, option.fields.map((field) => field.label)])).toEqual([
      ['Yes', []],
      ['No', ['Reason']],
    ]);
  });

  it('R-21 turns the posted form into the decision the update validates, and names the item without a reason', () => {
    const posted = {
      decision: 'sign-off',
      rationale: 'evidence supports it',
      fields: {
        'sign-off': {
          outcome: 'child-in-need-plan',
          determinations: { childInNeed: 'true', significantHarmSuspected: 'false', accommodationNeeded: 'false' },
          checklist: Object.fromEntries(checklistItems.map((key) => [key, key === 'analysis-triangulated' ? { met: 'false', reason: ' ' } : { met: 'true' }])),
          withholdFromFamily: '',
          primaryNeedCode: 'N4',
          assessmentFactors: ['3B'],
        },
        'return-to-worker': {},
      },
    };
    const decision = decisionFromForm('sign-off', posted);
    expect(decision).toMatchObject({ decision: 'sign-off', primaryNeedCode: 'N4', assessmentFactors: ['3B'], outcome: 'child-in-need-plan', determinations: { childInNeed: true, significantHarmSuspected: false }, checklist: { 'analysis-triangulated': { met: false, reason: ' ' } } });
    expect(decision).not.toHaveProperty('withholdFromFamily');
    const checked = schemaOf('sign-off').safeParse({ ...decision, promptId: 'p-1', decidedBy: 'MGR-1', decidedAt: new Date().toISOString() });
    expect(checked.success).toBe(false);
    const errors = formErrors('sign-off', decision, checked.error?.issues ?? []);
    expect([...errors]).toEqual([['sign-off.checklist.analysis-triangulated.reason', 'an item not met needs a recorded reason (R-21)']]);
    expect(buildDecisionForm('sign-off', posted, errors).errors).toEqual([
      { text: 'Checklist: Analysis triangulated: Reason: an item not met needs a recorded reason (R-21)', href: '#f-sign-off-checklist-analysis-triangulated-reason' },
    ]);
  });

  it('R-4 the allocation: numbers and optional fields left empty', () => {
    const decision = decisionFromForm('allocation', { decision: 'allocate', rationale: 'r', fields: { allocate: { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief', timescaleWorkingDays: '20', visitWithinHours: '' } } });
    expect(decision).toEqual({ decision: 'allocate', rationale: 'r', socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief', timescaleWorkingDays: 20 });
    const none = decisionFromForm('allocation', { rationale: '' });
    const checked = schemaOf('allocation').safeParse({ ...none, promptId: 'p', decidedBy: 'MGR-1', decidedAt: new Date().toISOString() });
    expect([...formErrors('allocation', none, checked.error?.issues ?? []).keys()]).toContain('decision');
  });
});

describe('pages: the child in need plan in the sign-off form', () => {
  it('R-44 the plan\'s lists are numbered rows; filled rows become the plan the update validates, empty rows are left out', () => {
    const form = buildDecisionForm('sign-off');
    const plan = form.decision.options[0]?.fields.find((field) => field.label === 'Child in need plan');
    expect(plan?.type).toBe('group');
    const parts = plan?.type === 'group' ? plan.fields : [];
    const services = parts.find((field) => field.label === 'Services');
    expect(services?.type === 'group' && services.fields.map((row) => row.label)).toEqual(['Service 1', 'Service 2', 'Service 3']);
    const firstService = services?.type === 'group' ? services.fields[0] : undefined;
    expect(firstService?.type === 'group' && firstService.fields.map((field) => (field.type === 'text' ? field.name : ''))).toEqual([
      'fields[sign-off][childInNeedPlan][services][0][service]',
      'fields[sign-off][childInNeedPlan][services][0][agencyRef]',
    ]);
    const reviewDates = parts.find((field) => field.label === 'Review dates');
    expect(reviewDates?.type === 'group' && reviewDates.fields.map((row) => row.type === 'text' && row.inputType)).toEqual(['datetime-local', 'datetime-local', 'datetime-local']);

    const later = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 16);
    const posted = {
      decision: 'sign-off',
      rationale: 'the family needs support',
      fields: {
        'sign-off': {
          outcome: 'child-in-need-plan',
          determinations: { childInNeed: 'true', significantHarmSuspected: 'false', accommodationNeeded: 'false' },
          checklist: Object.fromEntries(checklistItems.map((key) => [key, { met: 'true' }])),
          primaryNeedCode: 'N1',
          assessmentFactors: ['3B'],
          childInNeedPlan: {
            planManagerId: 'MGR-2',
            services: [{ service: 'family support', agencyRef: 'AG-1' }, { service: '', agencyRef: '' }, { service: 'school nurse', agencyRef: 'AG-2' }],
            actions: [{ actionRef: 'ACT-1', action: 'weekly visits', owner: 'SW-1', dueBy: later(10) }, {}, {}],
            reviewDates: [later(20), '', later(60)],
            intendedOutcomes: ['attends school every day', '', ''],
            contingency: 'a strategy discussion if concerns grow',
            discussion: { child: { discussed: 'true', on: later(0) }, family: { discussed: 'true', on: later(0) }, professionals: { discussed: 'false', reason: 'the network meets next week' } },
          },
        },
      },
    };
    const decision = decisionFromForm('sign-off', posted);
    expect(decision.childInNeedPlan).toMatchObject({
      services: [{ service: 'family support', agencyRef: 'AG-1' }, { service: 'school nurse', agencyRef: 'AG-2' }],
      actions: [{ actionRef: 'ACT-1', owner: 'SW-1' }],
      intendedOutcomes: ['attends school every day'],
      discussion: { child: { discussed: true }, professionals: { discussed: false, reason: 'the network meets next week' } },
    });
    expect((decision.childInNeedPlan as { reviewDates: string[] }).reviewDates).toHaveLength(2);
    const checked = schemaOf('sign-off').safeParse({ ...decision, promptId: 'p-1', decidedBy: 'MGR-1', decidedAt: new Date().toISOString() });
    expect(checked.error?.issues ?? []).toEqual([]);

    // A plan without services is refused naming the list.
    const noServices = { ...posted, fields: { 'sign-off': { ...posted.fields['sign-off'], childInNeedPlan: { ...posted.fields['sign-off'].childInNeedPlan, services: [{}, {}, {}] } } } };
    const refused = decisionFromForm('sign-off', noServices);
    const errors = formErrors('sign-off', refused, schemaOf('sign-off').safeParse({ ...refused, promptId: 'p-1', decidedBy: 'MGR-1', decidedAt: new Date().toISOString() }).error?.issues ?? []);
    expect(errors.get('sign-off.childInNeedPlan.services')).toMatch(/R-44: the plan states the services/);
  });
});

describe('pages: the OpenPromptsDue attribute the prompt list pages by', () => {
  it('writes fixed-width entries in due order (no due time last), at most the limit, and reads them back', () => {
    const prompts = [
      { promptId: 'w~sign-off-1', dueBy: '2026-11-23T17:00:00Z', status: 'open' as const },
      { promptId: 'w~escalation-2', dueBy: '2026-11-20T09:00:00.000Z', status: 'open' as const },
      { promptId: 'w~allocation-1', status: 'open' as const },
      { promptId: 'w~duty-decision-1', dueBy: '2026-11-01T09:00:00.000Z', status: 'answered' as const },
    ];
    const entries = openPromptsDueEntries(prompts);
    expect(entries).toEqual(['2026-11-20T09:00:00.000Z~escalation-2', '2026-11-23T17:00:00.000Z~sign-off-1', '~~allocation-1']);
    expect(entries.map(parseOpenPromptDue)).toEqual([
      { localId: 'escalation-2', kind: 'escalation', dueBy: '2026-11-20T09:00:00.000Z' },
      { localId: 'sign-off-1', kind: 'sign-off', dueBy: '2026-11-23T17:00:00.000Z' },
      { localId: 'allocation-1', kind: 'allocation' },
    ]);
    const many = Array.from({ length: 40 }, (_, index) => ({ promptId: `w~escalation-${index}`, dueBy: new Date(Date.UTC(2026, 0, 1 + index)).toISOString(), status: 'open' as const }));
    expect(openPromptsDueEntries(many)).toHaveLength(OPEN_PROMPTS_DUE_LIMIT);
    expect(JSON.stringify(openPromptsDueEntries(many)).length).toBeLessThan(2048);
  });

  it('lists a case from before the attribute by its open kinds, after the prompts with a due time', () => {
    const current = slotsOf({ workflowId: 'assessment-R-1.C-1', attributes: { OpenPromptKinds: ['sign-off'], OpenPromptsDue: ['2026-11-23T17:00:00.000Z~sign-off-1'] } });
    const older = slotsOf({ workflowId: 'assessment-R-0-C-1', attributes: { OpenPromptKinds: ['allocation', 'escalation'] } });
    expect(current).toEqual([expect.objectContaining({ localId: 'sign-off-1', dueBy: '2026-11-23T17:00:00.000Z' })]);
    expect(older.map((slot) => [slot.kind, slot.localId, slot.dueBy])).toEqual([
      ['allocation', undefined, undefined],
      ['escalation', undefined, undefined],
    ]);
    expect([...older, ...current].sort((a, b) => (a.key < b.key ? -1 : 1))[0]?.workflowId).toBe('assessment-R-1.C-1');
    expect(slotsOf({ workflowId: 'w', attributes: { OpenPromptsDue: '2026-11-23T17:00:00.000Z~sign-off-1' } }, 'allocation')).toEqual([]);
  });
});
