import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { checklistItems } from '../../domain/prompts';
import { humanise } from '../../api/pages/render';
import { fieldworkToSubmission } from '../support/procedure-fieldwork';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessmentWorkflowId, referralWorkflowId } from '../../domain/ids';
import { eventually, newReferralId, referralBody, startApi, type ApiUnderTest } from '../api/support';
import { bornYearsAgo } from '../support/assessment-harness';
import { expectAccessible, launchChromium, screenshot, signIn, type Person } from './browser';

/**
 * The pages in real Chromium, against the API and worker on the real dev server: a referral
 * posted through the API reaches a manager's inbox; the manager answers the duty decision
 * and the allocation in the browser (one of them with JavaScript off), signs the assessment
 * off through the generated form (refused first, naming the checklist item without its
 * reason), sees the decision on the case timeline with its rule, and a second submit says
 * "already answered". Other teams, other roles and forged posts are refused. Operations
 * read the dashboard and download its CSV. Every page is scanned with axe-core.
 *
 * The tests run in order and share one case (each step needs the one before); times are
 * relative to now, so they pass on any day.
 */
let api: ApiUnderTest;
let browser: Browser;
let system: string;
let managerToken: string;
const TEAM = `TP${Date.now().toString(36).toUpperCase()}1`;
const OTHER_TEAM = `${TEAM}X`;
const referralId = newReferralId();
const referral = referralWorkflowId(referralId);
const assessment = assessmentWorkflowId(referralId, 'C-1');
const lateReferralId = newReferralId();
const lateAssessment = assessmentWorkflowId(lateReferralId, 'C-1');
let manager: Person;
/** A second tab of the same manager, holding the sign-off form from before it was answered. */
let staleSignOff: Person;

beforeAll(async () => {
  api = await startApi({ pages: { sessionKeys: ['pages-test-session-key-of-at-least-32-characters'], secureCookies: false, signIn: { mode: 'local' } } });
  system = await api.token('system', 'CMS-1');
  managerToken = await api.token('manager', 'MGR-5', TEAM);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

const json = async <T>(response: Response, status: number): Promise<T> => {
  const body = (await response.json()) as T;
  expect(response.status, JSON.stringify(body)).toBe(status);
  return body;
};
const now = () => new Date().toISOString();

async function openPromptOf(workflowId: string, kind: string): Promise<string> {
  return eventually(async () => {
    const response = await api.call('GET', `/v1/assessments/${workflowId}`, { token: managerToken });
    if (response.status !== 200) return undefined;
    const state = (await response.json()) as { openPrompts: Array<{ promptId: string; kind: string }> };
    return state.openPrompts.find((prompt) => prompt.kind === kind)?.promptId;
  }, 30_000);
}

describe('the manager pages in Chromium', () => {
  it('R-1 a referral posted through the API appears in the manager inbox with its rule, and an overdue one says how late', async () => {
    await json(await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team: TEAM, children: [{ childRef: 'C-1', dateOfBirth: bornYearsAgo(9.5), schoolAge: true }] }) }), 201);
    // Received 100 days ago (a case system migrating a case): its duty decision is long overdue.
    const longAgo = new Date(Date.now() - 100 * 86_400_000).toISOString();
    await json(await api.call('POST', '/v1/referrals', { token: system, body: referralBody(lateReferralId, { team: TEAM, receivedAt: longAgo }) }), 201);

    manager = await signIn(browser, api.base, { role: 'manager', staffId: 'MGR-5', team: TEAM });
    expect(new URL(manager.page.url()).pathname).toBe('/inbox');
    const row = manager.page.locator(`tr[data-prompt-id="${referral}~duty-decision-1"]`);
    const lateRow = manager.page.locator(`tr[data-prompt-id="referral-${lateReferralId}~duty-decision-1"]`);
    await eventually(async () => {
      await manager.page.goto('/inbox');
      return (await row.count()) === 1 && (await lateRow.count()) === 1 ? true : undefined;
    }, 30_000);
    await expect.poll(() => row.innerText()).toMatch(/Decide how to respond to the referral/);
    expect(await row.innerText()).toMatch(/R-1 Duty decision/);
    expect(await row.innerText()).toContain(referral);
    expect(await row.innerText()).toMatch(/no-further-action, information-and-advice, early-help, single-assessment, strategy-discussion/);
    expect(await lateRow.innerText()).toMatch(/Overdue by \d+ working days/);
    // Oldest due first: the overdue one comes before the new one.
    const order = await manager.page.locator('tr[data-prompt-id]').evaluateAll((rows) => rows.map((each) => each.getAttribute('data-prompt-id')));
    expect(order.indexOf(`referral-${lateReferralId}~duty-decision-1`)).toBeLessThan(order.indexOf(`${referral}~duty-decision-1`));
    // Filtering by kind keeps to that kind.
    await manager.page.getByLabel('Kind of decision').selectOption('allocation');
    await manager.page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => manager.page.locator(`tr[data-prompt-id="${referral}~duty-decision-1"]`).count()).toBe(0);
    await manager.page.goto('/inbox');
    await screenshot(manager.page, 'inbox');
    await expectAccessible(manager.page);
    // GOV.UK Frontend's script ran under the CSP (scripts from this site, the template's one inline script by nonce).
    expect(await manager.page.locator('body.govuk-frontend-supported').count()).toBe(1);
  });

  it('R-1 the duty decision is answered through its generated form, and the inbox confirms it', async () => {
    await manager.page.goto(`/prompts/${referral}~duty-decision-1`);
    await expect.poll(() => manager.page.locator('h1').innerText()).toBe('Decide how to respond to the referral');
    expect(await manager.page.locator('.govuk-caption-l').innerText()).toMatch(/R-1 · Duty decision/);
    await expectAccessible(manager.page);
    await manager.page.getByLabel('Single assessment').check();
    await manager.page.getByLabel('Rationale').fill('needs a single assessment');
    await manager.page.getByRole('button', { name: 'Record decision' }).click();
    await manager.page.waitForURL('**/inbox');
    const banner = manager.page.locator('.govuk-notification-banner--success');
    expect(await banner.innerText()).toMatch(/Decision recorded[\s\S]*Single assessment[\s\S]*duty-decision-1/);
  });

  it('R-4 the allocation form works without JavaScript: every conditional field is shown and the decision is recorded', async () => {
    const promptId = await openPromptOf(assessment, 'allocation');
    const noScript = await signIn(browser, api.base, { role: 'manager', staffId: 'MGR-5', team: TEAM }, { javaScriptEnabled: false });
    await noScript.page.goto(`/prompts/${promptId}`);
    expect(await noScript.page.locator('body.js-enabled').count()).toBe(0);
    // The fields of 'allocate' are there to fill (shown, since no script hides them).
    const worker = noScript.page.getByLabel('Social worker id');
    expect(await worker.isVisible()).toBe(true);
    await noScript.page.getByLabel('Allocate').check();
    await worker.fill('SW-4');
    await noScript.page.getByRole('group', { name: 'Track', exact: true }).getByLabel('S17').check();
    await noScript.page.getByRole('group', { name: 'Assessment type', exact: true }).getByLabel('Brief').check();
    await noScript.page.getByLabel('Rationale').fill('allocated to the duty team');
    await screenshot(noScript.page, 'decision-form-allocation-no-javascript');
    await noScript.page.getByRole('button', { name: 'Record decision' }).click();
    await noScript.page.waitForURL('**/inbox');
    expect(await noScript.page.locator('.govuk-notification-banner--success').innerText()).toMatch(/Allocate/);
    const state = await json<{ socialWorkerId?: string; track?: string; assessmentType?: string }>(await api.call('GET', `/v1/assessments/${assessment}`, { token: managerToken }), 200);
    expect(state).toMatchObject({ socialWorkerId: 'SW-4', track: 'S17', assessmentType: 'brief' });
    await noScript.context.close();
  });

  it('the case page shows the stage, deadlines with working days left, open decisions and the timeline', async () => {
    await manager.page.goto(`/cases/${assessment}`);
    expect(await manager.page.locator('h1').innerText()).toBe(assessment);
    const deadlines = manager.page.locator('table.govuk-table tbody tr');
    expect(await deadlines.count()).toBeGreaterThan(0);
    // Each pending deadline says how many working days are left (a number), none overdue yet.
    const left = await deadlines.locator('td:nth-child(3)').allInnerTexts();
    expect(left.every((text) => /^\d+$/.test(text.trim()))).toBe(true);
    expect(await manager.page.locator('.govuk-summary-list').innerText()).toMatch(/Track\s+S17[\s\S]*Social worker\s+SW-4/);
    const allocation = manager.page.locator('.moj-timeline__item').filter({ hasText: "decision 'allocate'" });
    expect(await allocation.innerText()).toMatch(/by MGR-5[\s\S]*R-4 Allocation decision/);
    expect(await manager.page.getByRole('link', { name: `Referral ${referral}` }).count()).toBe(1);
    await screenshot(manager.page, 'case');
    await expectAccessible(manager.page);
  });

  it('R-21 a sign-off with a checklist item not met and no reason is refused, naming the item in the error summary', async () => {
    const events = fieldworkToSubmission;
    for (const [index, event] of events.entries()) {
      await json(await api.call('POST', `/v1/assessments/${assessment}/events`, { token: system, body: { eventId: `EV-${referralId}-${index + 1}`, occurredAt: now(), actor: 'SW-4', ...event } }), 202);
    }
    const promptId = await openPromptOf(assessment, 'sign-off');
    // Another tab opens the same form now, to post it again after the first answer.
    staleSignOff = { ...manager, page: await manager.context.newPage() };
    await staleSignOff.page.goto(`/prompts/${promptId}`);

    const page = manager.page;
    await page.goto(`/prompts/${promptId}`);
    // With JavaScript, a decision's own fields stay hidden until it is chosen (GOV.UK conditional reveal).
    const checklist = page.getByRole('group', { name: 'Child seen alone and views recorded', exact: true });
    expect(await checklist.isVisible()).toBe(false);
    await page.getByLabel('Sign off', { exact: true }).check();
    expect(await checklist.isVisible()).toBe(true);
    await fillSignOff(page, { leaveReasonEmpty: true });
    await page.getByRole('button', { name: 'Record decision' }).click();
    const summary = page.locator('.govuk-error-summary');
    await expect.poll(() => summary.count()).toBe(1);
    expect(await summary.innerText()).toMatch(/There is a problem[\s\S]*Analysis triangulated: Reason: an item not met needs a recorded reason \(R-21\)/);
    expect(await page.title()).toMatch(/^Error: /);
    // The summary links to the field, and what was entered is kept.
    const link = summary.getByRole('link', { name: /Analysis triangulated/ });
    expect(await link.getAttribute('href')).toBe('#f-sign-off-checklist-analysis-triangulated-reason');
    expect(await page.getByLabel('Rationale').inputValue()).toBe('evidence supports early help');
    await screenshot(page, 'decision-form-sign-off-errors');
    await expectAccessible(page);
    // Nothing was decided.
    expect(await openPromptOf(assessment, 'sign-off')).toBe(promptId);
  }, 180_000);

  it('R-21 the corrected sign-off is recorded, the inbox confirms it and the case timeline shows it with its rule', async () => {
    const page = manager.page;
    await page
      .getByRole('group', { name: 'Analysis triangulated', exact: true })
      .getByLabel('Reason')
      .fill('only one source could be reached; the manager accepts the analysis');
    await page.getByRole('button', { name: 'Record decision' }).click();
    await page.waitForURL('**/inbox');
    expect(await page.locator('.govuk-notification-banner--success').innerText()).toMatch(/Decision recorded[\s\S]*Sign off/);
    await screenshot(page, 'inbox-confirmation');

    await page.goto(`/cases/${assessment}`);
    const signOff = page.locator('.moj-timeline__item').filter({ hasText: "decision 'sign-off'" });
    expect(await signOff.count()).toBe(1);
    expect(await signOff.innerText()).toMatch(/by MGR-5[\s\S]*R-21 Manager review checklist/);
    expect(await page.locator('.govuk-summary-list').innerText()).toMatch(/Outcome\s+Early help/);
  });

  it('R-21 a second submit of the sign-off says it is already answered and records nothing', async () => {
    const page = staleSignOff.page;
    await page.getByLabel('Sign off', { exact: true }).check();
    await fillSignOff(page, { leaveReasonEmpty: false });
    await page.getByRole('button', { name: 'Record decision' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('This decision has already been answered');
    expect(await page.locator('main').innerText()).toMatch(/'sign-off'|‘sign-off’/);
    await expectAccessible(page);
    const { timeline } = await json<{ timeline: Array<{ what: string }> }>(await api.call('GET', `/v1/assessments/${assessment}/history`, { token: managerToken }), 200);
    expect(timeline.filter((entry) => entry.what.startsWith("decision 'sign-off'"))).toHaveLength(1);
    await page.close();
  });

  it('a form posted without its CSRF token is refused and decides nothing', async () => {
    const promptId = `referral-${lateReferralId}~duty-decision-1`;
    const forged = await manager.context.request.post(`/prompts/${promptId}`, { form: { decision: 'early-help', rationale: 'forged' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('This form could not be accepted');
    const wrong = await manager.context.request.post(`/prompts/${promptId}`, { form: { _csrf: 'not-the-token', decision: 'early-help', rationale: 'forged' }, maxRedirects: 0 });
    expect(wrong.status()).toBe(403);
    const state = await json<{ openPrompts: Array<{ promptId: string }> }>(await api.call('GET', `/v1/referrals/${lateReferralId}`, { token: managerToken }), 200);
    expect(state.openPrompts.map((prompt) => prompt.promptId)).toContain(promptId);
  });

  it("a manager of another team can neither see nor answer this team's prompts and cases (404)", async () => {
    const other = await signIn(browser, api.base, { role: 'manager', staffId: 'MGR-9', team: OTHER_TEAM });
    const promptId = `referral-${lateReferralId}~duty-decision-1`;
    await other.page.goto('/inbox');
    expect(await other.page.locator(`tr[data-prompt-id="${promptId}"]`).count()).toBe(0);
    const prompt = await other.page.goto(`/prompts/${promptId}`);
    expect(prompt?.status()).toBe(404);
    expect(await other.page.locator('h1').innerText()).toBe('Page not found');
    await expectAccessible(other.page);
    expect((await other.page.goto(`/cases/${assessment}`))?.status()).toBe(404);
    // Posting with a valid token of their own session changes nothing either.
    await other.page.goto('/inbox');
    const token = await other.page.locator('input[name="_csrf"]').first().inputValue();
    const posted = await other.context.request.post(`/prompts/${promptId}`, { form: { _csrf: token, decision: 'early-help', rationale: 'not my team' }, maxRedirects: 0 });
    expect(posted.status()).toBe(404);
    const state = await json<{ openPrompts: Array<{ promptId: string }> }>(await api.call('GET', `/v1/referrals/${lateReferralId}`, { token: managerToken }), 200);
    expect(state.openPrompts.map((each) => each.promptId)).toContain(promptId);
    await other.context.close();
  });

  it('a social worker gets the refusal page (the API role rules: prompts and histories are for managers)', async () => {
    const worker = await signIn(browser, api.base, { role: 'social_worker', staffId: 'SW-4', team: TEAM });
    const inbox = await worker.page.goto('/inbox');
    expect(inbox?.status()).toBe(403);
    expect(await worker.page.locator('h1').innerText()).toBe('You cannot use this page');
    await screenshot(worker.page, 'refusal');
    await expectAccessible(worker.page);
    expect((await worker.page.goto(`/cases/${assessment}`))?.status()).toBe(403);
    expect((await worker.page.goto(`/prompts/referral-${lateReferralId}~duty-decision-1`))?.status()).toBe(403);
    await worker.context.close();
  });

  it('operations see the timeliness dashboard with its chart and national reference line, the overdue list, and download the CSV', async () => {
    // The late referral's assessment starts past its statutory completion date.
    await json(await api.call('POST', `/v1/prompts/referral-${lateReferralId}~duty-decision-1/decision`, { token: managerToken, body: { decision: 'single-assessment', rationale: 'migrated case' } }), 200);
    const operations = await signIn(browser, api.base, { role: 'operations', staffId: 'OPS-1', allTeams: true });
    expect(new URL(operations.page.url()).pathname).toBe('/reports/timeliness');
    const overdueLink = operations.page.getByRole('link', { name: lateAssessment, exact: true });
    await eventually(async () => {
      await operations.page.goto(`/reports/timeliness?team=${TEAM}`);
      return (await overdueLink.count()) === 1 ? true : undefined;
    }, 30_000);
    const chart = operations.page.locator('svg.app-chart[role="img"]');
    expect(await chart.count()).toBe(1);
    expect(await chart.locator('desc').innerHTML()).toMatch(/national figure for England is about 86%/);
    expect(await chart.locator('line[data-reference="national"]').count()).toBe(1);
    expect(await chart.locator('rect.app-chart__bar').count()).toBe(12);
    // This month: the assessment signed off above, within 45 working days.
    const thisMonth = operations.page.locator('table.govuk-table tbody tr').filter({ has: operations.page.locator('th', { hasText: currentMonth() }) });
    // Completed 1; within 45 working days of its start (the DfE measure, charted) and of the referral: 100%.
    expect(await thisMonth.innerText()).toMatch(new RegExp(`${currentMonth()}\\s+1\\s+100%\\s+100%`));
    await screenshot(operations.page, 'dashboard');
    await expectAccessible(operations.page);

    const [download] = await Promise.all([operations.page.waitForEvent('download'), operations.page.getByRole('link', { name: 'Download these figures (CSV)' }).click()]);
    const csv = readFileSync((await download.path()) as string, 'utf8').split('\r\n');
    expect(csv[0]).toMatch(/^month,completed,within_45_working_days,/);
    expect(csv.find((line) => line.startsWith(currentMonth()))).toMatch(new RegExp(`^${currentMonth()},1,1,1,1\\.000,`));

    // The overdue list links to the case, which says it is overdue.
    await overdueLink.click();
    await operations.page.waitForURL(`**/cases/${lateAssessment}`);
    expect(await operations.page.locator('.govuk-warning-text').first().innerText()).toMatch(/Overdue/);
    expect(await operations.page.locator('main').innerText()).toMatch(/Overdue by \d+ working days/);
    expect(operations.cspViolations).toEqual([]);
    await operations.context.close();
  });

  it('the sign-in page is accessible, refuses an e-mail address as staff id, and signing out ends the session', async () => {
    const person = await signIn(browser, api.base, { role: 'manager', staffId: 'someone@example.org', team: TEAM });
    expect(await person.page.locator('.govuk-error-summary').innerText()).toMatch(/Enter a staff id: staff id may hold only letters, digits/);
    await screenshot(person.page, 'sign-in-errors');
    await expectAccessible(person.page);
    await person.context.close();

    expect(manager.cspViolations).toEqual([]);
    await manager.page.goto('/inbox');
    await manager.page.getByRole('button', { name: 'Sign out' }).click();
    await manager.page.waitForURL('**/sign-in');
    await manager.page.goto('/inbox');
    expect(new URL(manager.page.url()).pathname).toBe('/sign-in');
    await manager.context.close();
  });
});

function currentMonth(): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit' }).formatToParts(new Date());
  return `${parts.find((part) => part.type === 'year')?.value}-${parts.find((part) => part.type === 'month')?.value}`;
}

/** Fills the sign-off form: outcome, determinations, every checklist item met except the analysis. */
async function fillSignOff(page: Person['page'], options: { leaveReasonEmpty: boolean }): Promise<void> {
  // Early help: a child in need plan outcome also needs the whole plan, which this form cannot build yet.
  await page.getByRole('group', { name: 'Outcome', exact: true }).getByLabel('Early help').check();
  await page.getByRole('group', { name: 'Child in need', exact: true }).getByLabel('No').check();
  await page.getByRole('group', { name: 'Significant harm suspected', exact: true }).getByLabel('No').check();
  await page.getByRole('group', { name: 'Accommodation needed', exact: true }).getByLabel('No').check();
  // Every item of the checklist (domain/prompts.ts) met, but the analysis.
  for (const item of checklistItems.filter((key) => key !== 'analysis-triangulated')) {
    await page.getByRole('group', { name: humanise(item), exact: true }).getByLabel('Yes').check();
  }
  // The census items, each code shown with its DfE description.
  await page.getByRole('group', { name: 'Primary need code', exact: true }).getByLabel('N4: Family in acute stress').check();
  await page.getByRole('group', { name: 'Assessment factors', exact: true }).getByRole('checkbox', { name: /^3B: / }).check();
  const analysis = page.getByRole('group', { name: 'Analysis triangulated', exact: true });
  await analysis.getByLabel('No').check();
  if (!options.leaveReasonEmpty) await analysis.getByLabel('Reason').fill('one source only');
  await page.getByLabel('Rationale').fill('evidence supports early help');
}
