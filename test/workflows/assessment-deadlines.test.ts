import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { workingDaysBefore } from '../../domain/assessment-rules';
import { addHours, addWorkingDays, endOfLocalDay, startOfLocalDay, shiftLocalDate } from '../../domain/working-days';
import { allocate, AssessmentHarness, DAY_MS, decide, HOUR_MS, iso, openPrompt, send, state, testCalendar, useTimeSkippingHarness } from '../support/assessment-harness';

let env: TestWorkflowEnvironment;
let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ env, harness } = ready));

/** The end of the `workingDays`th working day from `fromMs`: when a timescale in days is due. */
const dueAfter = (fromMs: number, workingDays: number) => endOfLocalDay(testCalendar(), addWorkingDays(testCalendar(), fromMs, workingDays));

/** A referral received `workingDays` working days before the server's now (a back-dated case). */
async function receivedWorkingDaysAgo(workingDays: number): Promise<number> {
  return workingDaysBefore(testCalendar(), await harness.now(), workingDays);
}

describe('assessment workflow: deadlines run from the times events carry', () => {
  it('R-6 the visit is due 24 hours after an S47 allocation and 5 working days after an S17 one', async () => {
    const handle = await harness.start(await harness.input('REF-3001', { track: 'S47' }));
    const allocated = await allocate(harness, handle, { track: 'S47' });
    expect(allocated.visitDueAt).toBe(iso(addHours(Date.parse(allocated.allocatedAt!), 24)));
    await harness.finish(handle);

    const s17 = await harness.start(await harness.input('REF-3002'));
    const s17Allocated = await allocate(harness, s17);
    expect(s17Allocated.visitDueAt).toBe(iso(addWorkingDays(testCalendar(), Date.parse(s17Allocated.allocatedAt!), 5)));
    await harness.finish(s17);
  });

  it('R-7 a passed visit deadline prompts the manager, again after a missed new date, until the child is seen', async () => {
    const handle = await harness.start(await harness.input('REF-3003'));
    await allocate(harness, handle, { visitWithinHours: 2 });
    await env.sleep(3 * HOUR_MS);
    const overdue = await harness.eventually(async () => {
      const current = await state(handle);
      openPrompt(current, 'visit-overdue');
      return current;
    });
    const first = openPrompt(overdue, 'visit-overdue');
    expect(first.rule).toBe('R-7');
    expect(overdue.overdue.visit).toBe(true);
    expect(overdue.seenWithinTimescale).toBe(false);
    await harness.eventually(() =>
      expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'visit-overdue', promptId: first.promptId })),
    );
    await harness.eventually(async () => expect((await handle.describe()).searchAttributes.Overdue).toEqual([true]));

    const now = await harness.now();
    await decide(handle, first.promptId, 'reschedule', now, { visitDueAt: iso(now + HOUR_MS) });
    expect((await state(handle)).overdue.visit).toBe(false);
    await env.sleep(2 * HOUR_MS);
    const second = await harness.eventually(async () => {
      const prompt = openPrompt(await state(handle), 'visit-overdue');
      expect(prompt.promptId).not.toBe(first.promptId);
      return prompt;
    });

    await send(handle, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, await harness.now());
    const seen = await state(handle);
    expect(seen.prompts.find((prompt) => prompt.promptId === second.promptId)?.status).toBe('withdrawn');
    expect(seen.overdue.visit).toBe(false);
    expect(seen.seenWithinTimescale).toBe(false);
    await harness.finish(handle);
  });

  it('R-7 a decision that the child is not to be seen stops the prompting, with the rationale recorded', async () => {
    const handle = await harness.start(await harness.input('REF-3010'));
    await allocate(harness, handle, { visitWithinHours: 1 });
    await env.sleep(2 * HOUR_MS);
    const prompt = await harness.eventually(async () => openPrompt(await state(handle), 'visit-overdue'));
    await decide(handle, prompt.promptId, 'not-to-be-seen', await harness.now());
    await env.sleep(10 * DAY_MS);
    const after = await state(handle);
    expect(after.childNotToBeSeen).toBe(true);
    expect(after.overdue.visit).toBe(false);
    expect(after.prompts.filter((p) => p.kind === 'visit-overdue')).toHaveLength(1);
    expect(after.decisions.find((d) => d.kind === 'visit-overdue')).toMatchObject({ decision: 'not-to-be-seen', rationale: 'reasons recorded by the manager', rule: 'R-7' });
    await harness.finish(handle);
  });

  it('R-15 an unanswered supervision review escalates to the manager when its date passes; a visit with immediate concerns asks for it at once', async () => {
    const receivedAt = await receivedWorkingDaysAgo(24);
    const handle = await harness.start(await harness.input('REF-3004', { receivedAt: iso(receivedAt) }));
    const allocated = await allocate(harness, handle, { assessmentType: 'complex' });
    const review = openPrompt(allocated, 'supervision-review');
    expect(review.dueBy).toBe(iso(addWorkingDays(testCalendar(), receivedAt, 25)));
    await env.sleep(Date.parse(review.dueBy!) - (await harness.now()) + HOUR_MS);
    const escalated = await harness.eventually(async () => {
      const current = await state(handle);
      const escalation = openPrompt(current, 'escalation');
      expect(escalation).toMatchObject({ rule: 'R-15', about: 'supervision-review' });
      return current;
    });
    expect(escalated.overdue.supervisionReview).toBe(true);
    await harness.eventually(() =>
      expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'supervision-review-overdue', rule: 'R-15' })),
    );
    await decide(handle, review.promptId, 'continue', await harness.now());
    const reviewed = await state(handle);
    expect(reviewed.overdue.supervisionReview).toBe(false);
    expect(reviewed.openPrompts.map((prompt) => prompt.kind)).not.toContain('escalation');
    await harness.finish(handle);

    const concerns = await harness.start(await harness.input('REF-3005'));
    await allocate(harness, concerns);
    const seenAt = await harness.now();
    await send(concerns, { type: 'child-seen', seenAlone: true, viewsRecorded: true, immediateConcerns: true }, seenAt);
    const brought = openPrompt(await state(concerns), 'supervision-review');
    expect(brought.dueBy).toBe(iso(addWorkingDays(testCalendar(), seenAt, 1)));
    // The review may extend a brief assessment to complex (as R-18).
    await decide(concerns, brought.promptId, 'extend-to-complex', seenAt);
    expect((await state(concerns)).assessmentType).toBe('complex');
    await harness.finish(concerns);
  });

  it('R-18 a brief assessment near its deadline offers extension to complex; approval moves the due date to 45 working days', async () => {
    // Twelve working days ago: fewer than 5 whole working days are left before the end of the 15th.
    const receivedAt = await receivedWorkingDaysAgo(12);
    const handle = await harness.start(await harness.input('REF-3006', { receivedAt: iso(receivedAt) }));
    await allocate(harness, handle);
    const prompt = await harness.eventually(async () => openPrompt(await state(handle), 'extend-to-complex'));
    expect(prompt).toMatchObject({ rule: 'R-18', dueBy: iso(dueAfter(receivedAt, 15)) });
    await decide(handle, prompt.promptId, 'approve', await harness.now());
    const extended = await state(handle);
    expect(extended).toMatchObject({ assessmentType: 'complex', timescaleWorkingDays: 45, completionDueAt: iso(dueAfter(receivedAt, 45)) });
    await harness.finish(handle);
  });

  it('R-19 asks the manager before 45 working days, moves the date on approval, and records a breach when it passes', async () => {
    const receivedAt = await receivedWorkingDaysAgo(42);
    const handle = await harness.start(await harness.input('REF-3007', { receivedAt: iso(receivedAt) }));
    await allocate(harness, handle, { assessmentType: 'complex' });
    const due = dueAfter(receivedAt, 45);
    const prompt = await harness.eventually(async () => openPrompt(await state(handle), 'exceed-timescale'));
    expect(prompt).toMatchObject({ rule: 'R-19', dueBy: iso(due) });

    const now = await harness.now();
    const earlier = await decide(handle, prompt.promptId, 'approve', now, { completionDueAt: iso(due - HOUR_MS) }).catch((e: unknown) => e);
    expect((earlier as { cause?: { type?: string } }).cause?.type).toBe('invalid-decision');
    const newDue = due + 2 * DAY_MS;
    await decide(handle, prompt.promptId, 'approve', now, { completionDueAt: iso(newDue) });
    const approved = await state(handle);
    expect(approved.completionDueAt).toBe(iso(newDue));
    expect(approved.openPrompts.map((p) => p.kind)).not.toContain('exceed-timescale');

    await env.sleep(newDue - (await harness.now()) + HOUR_MS);
    const breached = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.breaches).toHaveLength(1);
      return current;
    });
    expect(breached.breaches[0]).toMatchObject({ rule: 'R-19', deadline: 'completion', dueAt: iso(newDue) });
    expect(breached.record.some((entry) => entry.type === 'timescale-breached' && entry.rule === 'R-19')).toBe(true);
    // The supervision review, also unanswered, escalates on its own prompt.
    expect(breached.openPrompts.find((p) => p.kind === 'escalation' && p.about === 'completion')).toMatchObject({ rule: 'R-19' });
    await harness.eventually(() => {
      const recipients = harness.notifications(handle.workflowId).filter((n) => n.reason === 'timescale-breached').map((n) => n.recipient);
      expect(recipients.sort()).toEqual(['head-of-service', 'manager']);
    });
    await harness.eventually(async () => expect((await handle.describe()).searchAttributes.Overdue).toEqual([true]));
    await harness.finish(handle);
  });

  it('R-18 a back-dated brief referral already past its brief timescale is flagged and escalated to the manager at once', async () => {
    const receivedAt = await receivedWorkingDaysAgo(20);
    const handle = await harness.start(await harness.input('REF-3008', { receivedAt: iso(receivedAt) }));
    await allocate(harness, handle);
    const current = await harness.eventually(async () => {
      const now = await state(handle);
      expect(now.breaches).toHaveLength(1);
      return now;
    });
    expect(current.completionDueAt).toBe(iso(dueAfter(receivedAt, 15)));
    // The brief timescale was missed; the statutory 45 working days still run.
    expect(openPrompt(current, 'escalation').rule).toBe('R-18');
    expect(current.openPrompts.map((prompt) => prompt.kind)).not.toContain('extend-to-complex');
    await harness.finish(handle);
  });

  it('R-20 a pre-birth assessment is due 4 weeks before the expected delivery date when that comes first', async () => {
    const now = await harness.now();
    const expectedDeliveryDate = iso(now + 6 * 7 * DAY_MS).slice(0, 10);
    const handle = await harness.start(await harness.input('REF-3009', { child: { childRef: 'C-9', expectedDeliveryDate } }));
    const allocated = await allocate(harness, handle, { assessmentType: 'complex' });
    const preBirth = startOfLocalDay(testCalendar(), shiftLocalDate(expectedDeliveryDate, -28));
    expect(allocated.preBirthCompletionDueAt).toBe(iso(preBirth));
    expect(allocated.completionDueAt).toBe(iso(preBirth));
    expect(Date.parse(allocated.normalCompletionDueAt!)).toBeGreaterThan(preBirth);
    await harness.finish(handle);
  });
});
