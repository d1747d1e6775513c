import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { buildWorkingCalendar } from '../../activities/calendar';
import { addWorkingDays } from '../../domain/working-days';
import { section47EnquiryWorkflowId } from '../../domain/ids';
import type { StrategyDiscussionInput } from '../../domain/process';
import { decideUpdate, eventSignal, stateQuery } from '../../workflows/messages';
import type { Section47State } from '../../workflows/section47-enquiry';
import { strategyDiscussionWorkflow, type StrategyDiscussionState } from '../../workflows/strategy-discussion';
import { AssessmentHarness, childInNeedPlan, DAY_MS, HOUR_MS, iso, testCalendar, useTimeSkippingHarness } from '../support/assessment-harness';
import { addWorkingDaysIndependent, bankHolidaysBetweenIndependent, LONDON } from '../support/independent-calendar';

let env: TestWorkflowEnvironment;
let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ env, harness } = ready));

let counter = 0;
async function startDiscussion(overrides: Partial<StrategyDiscussionInput> = {}): Promise<WorkflowHandle<typeof strategyDiscussionWorkflow>> {
  counter += 1;
  const referralId = `REF-${5000 + counter}-${Date.now().toString(36)}`;
  return harness.startStrategyDiscussion(referralId, overrides);
}

const discussionState = async (handle: WorkflowHandle) => (await handle.query(stateQuery)) as StrategyDiscussionState;
const enquiryState = async (handle: WorkflowHandle) => (await handle.query(stateQuery)) as Section47State;

const promptOf = (current: { openPrompts: Array<{ kind: string; promptId: string; dueBy?: string }> }, kind: string) => {
  const prompt = current.openPrompts.find((candidate) => candidate.kind === kind);
  if (!prompt) throw new Error(`no open ${kind} prompt; open: ${current.openPrompts.map((open) => open.kind).join(', ')}`);
  return prompt;
};

async function decide(handle: WorkflowHandle, promptId: string, decision: string, extra: Record<string, unknown> = {}) {
  return handle.executeUpdate(decideUpdate, {
    args: [{ promptId, decision, rationale: 'agreed at the strategy discussion', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()), ...extra } as never],
  });
}

describe('strategy discussion and section 47 enquiry', () => {
  it('R-26 a strategy discussion needs police and health; no section 47 returns the child to section 17 work', async () => {
    const handle = await startDiscussion();
    const current = await harness.eventually(async () => {
      const now = await discussionState(handle);
      promptOf(now, 'strategy-discussion-outcome');
      return now;
    });
    const prompt = promptOf(current, 'strategy-discussion-outcome');
    expect(Date.parse(prompt.dueBy!)).toBe(addWorkingDays(testCalendar(), Date.parse(current.calledAt), 1));

    const refused = await decide(handle, prompt.promptId, 'no-section-47', { attendees: ['police', 'social-care'] }).catch((error: unknown) => error);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'invalid-decision' });
    expect((refused as WorkflowUpdateFailedError).cause?.message).toContain('health');

    await decide(handle, prompt.promptId, 'no-section-47', { attendees: ['police', 'health', 'social-care'] });
    const result = await handle.result();
    expect(result.outcome).toBe('no-section-47');
    expect(result.section47).toBeUndefined();
  });

  it('R-26 a strategy discussion not held promptly escalates to the manager', async () => {
    const handle = await startDiscussion();
    const current = await harness.eventually(async () => discussionState(handle));
    await env.sleep(Date.parse(current.discussionDueAt) - (await harness.now()) + HOUR_MS);
    const after = await harness.eventually(async () => {
      const now = await discussionState(handle);
      promptOf(now, 'escalation');
      return now;
    });
    expect(after.overdue).toBe(true);
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'strategy-discussion-overdue', rule: 'R-26' })));
    await harness.finish(handle);
  });

  it('R-27 a section 47 enquiry sees the child within 24 hours, escalating when not, and concludes only once the child is seen', async () => {
    const discussion = await startDiscussion();
    const current = await harness.eventually(async () => discussionState(discussion));
    await decide(discussion, promptOf(current, 'strategy-discussion-outcome').promptId, 'section-47-enquiry', { attendees: ['police', 'health', 'education'] });
    const enquiry = env.client.workflow.getHandle(section47EnquiryWorkflowId(current.referralId, 'C-1', 1));
    const started = await harness.eventually(async () => enquiryState(enquiry));
    expect(Date.parse(started.childSeenDueAt) - Date.parse(started.startedAt)).toBe(24 * HOUR_MS);

    // Concluding before the child is seen is refused.
    const early = await decide(enquiry, promptOf(started, 'section-47-outcome').promptId, 'not-substantiated').catch((error: unknown) => error);
    expect((early as WorkflowUpdateFailedError).cause?.message).toContain('not been seen');

    await env.sleep(25 * HOUR_MS);
    const overdue = await harness.eventually(async () => {
      const now = await enquiryState(enquiry);
      promptOf(now, 'escalation');
      return now;
    });
    expect(overdue.overdue.childSeen).toBe(true);

    await enquiry.signal(eventSignal, { type: 'child-seen', eventId: 'EV-S47-SEEN-1', occurredAt: iso(await harness.now()), actor: 'SW-1', seenAlone: true, viewsRecorded: true });
    const seen = await harness.eventually(async () => {
      const now = await enquiryState(enquiry);
      if (!now.childSeenAt) throw new Error('not seen yet');
      return now;
    });
    expect(seen.openPrompts.map((prompt) => prompt.kind)).toEqual(['section-47-outcome']);
    await decide(enquiry, promptOf(seen, 'section-47-outcome').promptId, 'child-in-need-plan', { childInNeedPlan: childInNeedPlan(await harness.now()) });
    const result = await discussion.result();
    expect(result).toMatchObject({ outcome: 'section-47-enquiry', section47: { outcome: 'child-in-need-plan' } });
  });

  it('R-27 the initial child protection conference is due 15 working days after the strategy discussion that started this enquiry (not the child\'s first one), and escalates when missed', async () => {
    const now = await harness.now();
    // The first strategy discussion for this child was held ten days ago; this is the second, and starts this enquiry.
    const initial = now - 10 * DAY_MS;
    const discussion = await startDiscussion({ sequence: 2, initialStrategyDiscussionAt: iso(initial) });
    const current = await harness.eventually(async () => discussionState(discussion));
    await decide(discussion, promptOf(current, 'strategy-discussion-outcome').promptId, 'emergency-action', { attendees: ['police', 'health'] });
    const enquiry = env.client.workflow.getHandle(section47EnquiryWorkflowId(current.referralId, 'C-1', 2));
    await harness.eventually(async () => enquiryState(enquiry));
    await enquiry.signal(eventSignal, { type: 'child-seen', eventId: 'EV-ICPC-SEEN-1', occurredAt: iso(await harness.now()), actor: 'SW-1', seenAlone: true, viewsRecorded: true });
    const seen = await harness.eventually(async () => {
      const state = await enquiryState(enquiry);
      if (!state.childSeenAt) throw new Error(`not seen yet: ${JSON.stringify(state.record.slice(-3))}`);
      return state;
    });
    await decide(enquiry, promptOf(seen, 'section-47-outcome').promptId, 'initial-child-protection-conference');
    const awaiting = await harness.eventually(async () => {
      const state = await enquiryState(enquiry);
      if (state.stage !== 'awaiting-conference') throw new Error('not awaiting the conference');
      return state;
    });
    expect(awaiting.initialStrategyDiscussionAt).toBe(awaiting.startedAt);
    expect(Date.parse(awaiting.initialStrategyDiscussionAt)).toBeGreaterThan(initial);
    expect(awaiting.conferenceDueAt).toBe(iso(addWorkingDays(testCalendar(), Date.parse(awaiting.startedAt), 15)));
    // Emergency action tells the police and the manager at once.
    expect(harness.notifications(discussion.workflowId).map((line) => `${line.recipient}:${line.reason}`)).toEqual(
      expect.arrayContaining(['police:emergency-action', 'manager:emergency-action']),
    );

    await env.sleep(Date.parse(awaiting.conferenceDueAt!) - (await harness.now()) + HOUR_MS);
    const late = await harness.eventually(async () => {
      const state = await enquiryState(enquiry);
      promptOf(state, 'escalation');
      return state;
    });
    expect(late.overdue.conference).toBe(true);
    await harness.eventually(() =>
      expect(harness.notifications(enquiry.workflowId).map((line) => line.recipient)).toEqual(expect.arrayContaining(['manager', 'head-of-service'])),
    );
    await enquiry.signal(eventSignal, { type: 'child-protection-conference-held', eventId: 'EV-ICPC-HELD-1', occurredAt: iso(await harness.now()), actor: 'SW-1' });
    const result = await discussion.result();
    expect(result.section47).toMatchObject({ outcome: 'initial-child-protection-conference', conferenceDueAt: awaiting.conferenceDueAt });
    expect(result.section47?.conferenceHeldAt).toBeDefined();
  });

  // Last in this file: it moves this file's test server on to the next Christmas.
  it('R-27 the conference deadline counts working days only, skipping Christmas, Boxing Day and New Year (or their substitute days)', async () => {
    // The next 14 December on the test server's clock, 10:00 London time: a strategy discussion
    // held then has its conference due in January, after the bank holidays of Christmas Day,
    // Boxing Day and New Year's Day (a substitute Monday or Tuesday when one falls on a weekend).
    const now = DateTime.fromMillis(await harness.now(), { zone: LONDON });
    let heldOn = DateTime.fromObject({ year: now.year, month: 12, day: 14, hour: 10 }, { zone: LONDON });
    if (heldOn <= now) heldOn = heldOn.plus({ years: 1 });
    const year = heldOn.year;
    // A calendar that surely covers that Christmas and New Year (the referral loads its year -1 .. +3).
    const calendar = buildWorkingCalendar({ region: 'england-and-wales', timeZone: LONDON, fromYear: year - 1, toYear: year + 1 });
    expect(calendar.fromYear <= year && calendar.toYear >= year + 1).toBe(true);
    await env.sleep(heldOn.toMillis() - now.toMillis());

    const discussion = await startDiscussion({ sequence: 3, calendar });
    const current = await harness.eventually(async () => discussionState(discussion));
    await decide(discussion, promptOf(current, 'strategy-discussion-outcome').promptId, 'section-47-enquiry', { attendees: ['police', 'health'] });
    const heldAt = Date.parse((await harness.eventually(async () => {
      const state = await discussionState(discussion);
      if (!state.heldAt) throw new Error('not held yet');
      return state;
    })).heldAt!);
    expect(DateTime.fromMillis(heldAt, { zone: LONDON }).toISODate()).toBe(heldOn.toISODate());
    const enquiry = env.client.workflow.getHandle(section47EnquiryWorkflowId(current.referralId, 'C-1', 3));
    await harness.eventually(async () => enquiryState(enquiry));
    await enquiry.signal(eventSignal, { type: 'child-seen', eventId: 'EV-XMAS-SEEN-1', occurredAt: iso(await harness.now()), actor: 'SW-1', seenAlone: true, viewsRecorded: true });
    const seen = await harness.eventually(async () => {
      const state = await enquiryState(enquiry);
      if (!state.childSeenAt) throw new Error('not seen yet');
      return state;
    });
    await decide(enquiry, promptOf(seen, 'section-47-outcome').promptId, 'initial-child-protection-conference');
    const awaiting = await harness.eventually(async () => {
      const state = await enquiryState(enquiry);
      if (!state.conferenceDueAt) throw new Error('no conference date yet');
      return state;
    });
    // Counted by the independent calculator: 15 working days, three bank holidays skipped.
    const expected = addWorkingDaysIndependent(heldAt, 15);
    expect(bankHolidaysBetweenIndependent(heldAt, expected)).toHaveLength(3);
    expect(expected > `${year + 1}-01-01`).toBe(true);
    expect(awaiting.conferenceDueAt).toBe(expected);
    await enquiry.signal(eventSignal, { type: 'child-protection-conference-held', eventId: 'EV-XMAS-HELD-1', occurredAt: iso(await harness.now()), actor: 'SW-1' });
    expect((await discussion.result()).section47).toMatchObject({ outcome: 'initial-child-protection-conference', conferenceDueAt: expected });
  });
});
