import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { testCodec } from '../support/payload-keys';
import { dataConverter } from '../../common/temporal';
import { addWorkingDays, endOfLocalDay, workingDaysBetween } from '../../domain/working-days';
import { managerDecisionSignal } from '../../workflows/messages';
import {
  allMet,
  bornYearsAgo,
  childInNeedPlan,
  allocate,
  AssessmentHarness,
  DAY_MS,
  decide,
  doFieldwork,
  HOUR_MS,
  iso,
  openPrompt,
  send,
  state,
  testCalendar, useTimeSkippingHarness } from '../support/assessment-harness';

let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ harness } = ready));

const failure = (error: unknown) => (error as WorkflowUpdateFailedError).cause as { type?: string; message?: string };
const signOffAnswer = (extra: Record<string, unknown> = {}) => ({
  outcome: 'child-in-need-plan',
  determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false },
  checklist: allMet(),
  primaryNeedCode: 'N1',
  assessmentFactors: ['3B', '4B'],
  // the plan a child in need plan outcome needs (reviews far enough ahead of any time this file skips to).
  childInNeedPlan: childInNeedPlan(Date.now() + 365 * DAY_MS),
  ...extra,
});

describe('assessment workflow: allocation, events and decisions', () => {
  it('R-4 R-5 allocation records worker, track, type and a completion date counted from the referral date', async () => {
    const input = await harness.input('REF-2001', {}, 3 * DAY_MS);
    const handle = await harness.start(input);
    const started = await state(handle);
    expect(started.stage).toBe('awaiting-allocation');
    const prompt = openPrompt(started, 'allocation');
    expect(prompt.rule).toBe('R-4');

    const now = await harness.now();
    const tooLong = await decide(handle, prompt.promptId, 'allocate', now, { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief', timescaleWorkingDays: 46 }).catch((e: unknown) => e);
    expect(failure(tooLong)).toMatchObject({ type: 'invalid-decision' });

    await decide(handle, prompt.promptId, 'allocate', now, { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief', timescaleWorkingDays: 20, team: 'TEAM-2' });
    const allocated = await state(handle);
    expect(allocated).toMatchObject({ stage: 'in-progress', socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief', timescaleWorkingDays: 20, team: 'TEAM-2', allocatedAt: iso(now) });
    // Due at the end of the 20th working day from the referral (a timescale in days is met on its last day).
    expect(allocated.completionDueAt).toBe(iso(endOfLocalDay(testCalendar(), addWorkingDays(testCalendar(), Date.parse(input.receivedAt), 20))));
    expect(allocated.visitDueAt).toBe(iso(addWorkingDays(testCalendar(), now, 5)));

    const description = await harness.eventually(async () => {
      const described = await handle.describe();
      expect(described.searchAttributes.AssessmentStage).toEqual(['in-progress']);
      return described;
    });
    expect(description.searchAttributes).toMatchObject({ AssessmentTrack: ['S17'], ReferralId: ['REF-2001'], Team: ['TEAM-2'], ManagerId: ['MGR-1'], LocalAuthority: ['LA-1'], Overdue: [false] });
    await harness.eventually(() => expect(harness.caseRecords(handle.workflowId).map((r) => r.kind)).toContain('allocation'));
    await harness.finish(handle);
  });

  it('keeps a repeated event once, and an out-of-stage event as rejected with the reason, its eventId free for a resend', async () => {
    const handle = await harness.start(await harness.input('REF-2002'));
    const now = await harness.now();
    const visit = await send(handle, { type: 'home-visited', bedroomSeen: true }, now);
    const events = (await state(handle)).record.filter((entry) => entry.source === 'event');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'home-visited', status: 'rejected' });
    expect(events[0]?.reason).toMatch(/needs an allocated assessment/);

    await allocate(harness, handle);
    // A refused event did not use up its eventId: sent again once it fits, it is taken.
    await handle.signal('event', visit);
    expect((await state(handle)).evidence.homeVisits).toHaveLength(1);
    const seen = await send(handle, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, now);
    const before = await state(handle);
    await handle.signal('event', seen);
    const after = await state(handle);
    expect(after.record).toHaveLength(before.record.length);
    expect(after.evidence.childSeen).toHaveLength(1);
    await harness.finish(handle);
  });

  it('refuses a decision not allowed, a missing rationale, and an answer to a closed prompt', async () => {
    const handle = await harness.start(await harness.input('REF-2003'));
    const prompt = openPrompt(await state(handle), 'allocation');
    const now = await harness.now();
    const notAllowed = await decide(handle, prompt.promptId, 'approve', now).catch((e: unknown) => e);
    expect(notAllowed).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(failure(notAllowed)).toMatchObject({ type: 'decision-not-allowed' });
    const noRationale = await decide(handle, prompt.promptId, 'allocate', now, { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief', rationale: ' ' }).catch((e: unknown) => e);
    expect(failure(noRationale)).toMatchObject({ type: 'invalid-decision' });
    await allocate(harness, handle);
    const closed = await decide(handle, prompt.promptId, 'allocate', now, { socialWorkerId: 'SW-2', track: 'S17', assessmentType: 'brief' }).catch((e: unknown) => e);
    expect(failure(closed)).toMatchObject({ type: 'prompt-closed' });
    // The same answer as a signal is kept in the record as rejected.
    await handle.signal(managerDecisionSignal, { promptId: prompt.promptId, decision: 'allocate', rationale: 'again', decidedBy: 'MGR-1', decidedAt: iso(now) });
    const rejected = (await state(handle)).record.filter((entry) => entry.source === 'decision' && entry.status === 'rejected');
    expect(rejected[0]?.reason).toMatch(/^prompt-closed/);
    expect((await state(handle)).socialWorkerId).toBe('SW-1');
    await harness.finish(handle);
  });

  it('R-8 a child seen not alone without a reason is rejected; seen alone with views is evidence for the checklist', async () => {
    const handle = await harness.start(await harness.input('REF-2004', { householdChildRefs: ['C-1', 'C-2'] }));
    await allocate(harness, handle);
    const now = await harness.now();
    await send(handle, { type: 'child-seen', seenAlone: false, viewsRecorded: true }, now);
    let current = await state(handle);
    expect(current.record.at(-1)).toMatchObject({ type: 'child-seen', status: 'rejected' });
    expect(current.record.at(-1)?.reason).toMatch(/R-8/);
    expect(current.checklistEvidence['child-seen-alone-and-views-recorded'].shown).toBe(false);
    await send(handle, { type: 'child-seen', seenAlone: false, reasonNotAlone: 'too young to be seen alone', viewsRecorded: false }, now);
    await send(handle, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, now);
    current = await state(handle);
    expect(current.evidence.childSeen).toHaveLength(2);
    expect(current.checklistEvidence['child-seen-alone-and-views-recorded'].shown).toBe(true);
    expect(current.checklistEvidence['all-children-in-household-seen']).toMatchObject({ shown: 'manager-confirms' });
    expect(current.evidence.householdChildRefs).toEqual(['C-1', 'C-2']);
    await harness.finish(handle);
  });

  it('R-9 parents seen are recorded, and excluding a father needs the manager’s recorded agreement', async () => {
    const handle = await harness.start(await harness.input('REF-2005'));
    await allocate(harness, handle);
    const now = await harness.now();
    await send(handle, { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true }, now);
    await send(handle, { type: 'father-exclusion-requested', parentRef: 'PAR-2' }, now);
    const current = await state(handle);
    expect(current.evidence.parentsSeen).toMatchObject([{ parentRef: 'PAR-1', viewsRecorded: true }]);
    const prompt = openPrompt(current, 'exclude-father');
    expect(prompt).toMatchObject({ rule: 'R-9', about: 'PAR-2' });
    await decide(handle, prompt.promptId, 'approve', now);
    const after = await state(handle);
    expect(after.fatherExclusion).toBe('approved');
    expect(after.decisions.at(-1)).toMatchObject({ kind: 'exclude-father', decision: 'approve', decidedBy: 'MGR-1', rationale: 'reasons recorded by the manager' });
    await harness.finish(handle);
  });

  it('R-10 an assessment needing an interpreter cannot be submitted until one is provided or a waiver is approved', async () => {
    const handle = await harness.start(await harness.input('REF-2006'));
    await allocate(harness, handle);
    const now = await harness.now();
    await send(handle, { type: 'interpreter-needed', language: 'lang-1' }, now);
    await send(handle, { type: 'assessment-submitted' }, now);
    let current = await state(handle);
    expect(current.stage).toBe('in-progress');
    expect(current.record.at(-1)).toMatchObject({ type: 'assessment-submitted', status: 'rejected', rule: 'R-10' });
    await send(handle, { type: 'interpreter-waiver-requested' }, now);
    const waiver = openPrompt(await state(handle), 'interpreter-waiver');
    await decide(handle, waiver.promptId, 'approve', now);
    await send(handle, { type: 'assessment-submitted' }, now);
    current = await state(handle);
    expect(current.interpreter).toMatchObject({ needed: true, provided: false, waiver: 'approved' });
    expect(current.stage).toBe('awaiting-sign-off');
    await harness.finish(handle);
  });

  it('R-11 not in education: a school-age child is referred to education welfare at once; a younger child is rejected', async () => {
    const handle = await harness.start(await harness.input('REF-2007'));
    await allocate(harness, handle);
    const now = await harness.now();
    await send(handle, { type: 'not-in-education' }, now);
    await harness.eventually(() =>
      expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'education-welfare', rule: 'R-11', childRef: 'C-1' })),
    );
    await harness.finish(handle);

    const young = await harness.start(await harness.input('REF-2008', { child: { childRef: 'C-2', dateOfBirth: bornYearsAgo(2) } }));
    await allocate(harness, young);
    await send(young, { type: 'not-in-education' }, now);
    const current = await state(young);
    expect(current.record.at(-1)).toMatchObject({ type: 'not-in-education', status: 'rejected' });
    expect(current.record.at(-1)?.reason).toMatch(/not of school age/);
    await harness.finish(young);
  });

  it('R-12 a suspected crime notifies the police and the manager at once, with opaque references only', async () => {
    const handle = await harness.start(await harness.input('REF-2009'));
    const now = await harness.now();
    await send(handle, { type: 'needs-identified', service: 'SERVICE-1' }, now);
    await send(handle, { type: 'crime-suspected' }, now);
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toHaveLength(3));
    const sent = harness.notifications(handle.workflowId);
    // Both at once, each on its own delivery (neither waits for the other, nor for anything else).
    expect(sent.filter((n) => n.rule === 'R-12').map((n) => n.recipient).sort()).toEqual(['manager', 'police']);
    // Free text never reaches a notification: opaque references only.
    const allowed = ['channel', 'idempotencyKey', 'recipient', 'reason', 'rule', 'workflowId', 'referralId', 'childRef', 'promptId', 'target'];
    for (const notification of sent) for (const key of Object.keys(notification)) expect(allowed).toContain(key);
    await harness.finish(handle);
  });

  it('R-14 needs identified at any stage are referred to the service at once', async () => {
    const handle = await harness.start(await harness.input('REF-2010'));
    const now = await harness.now();
    await send(handle, { type: 'needs-identified', service: 'SERVICE-2' }, now);
    await harness.eventually(() =>
      expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'service', target: 'SERVICE-2', rule: 'R-14' })),
    );
    expect((await state(handle)).stage).toBe('awaiting-allocation');
    await harness.finish(handle);
  });

  it('R-16 an event recorded more than 2 working days after it happened is flagged as late', async () => {
    const handle = await harness.start(await harness.input('REF-2011', {}, 20 * DAY_MS));
    await allocate(harness, handle);
    const now = await harness.now();
    await send(handle, { type: 'home-visited', bedroomSeen: true, recordedAt: iso(now) }, now - 10 * DAY_MS);
    await send(handle, { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true, recordedAt: iso(now) }, now - HOUR_MS);
    const events = (await state(handle)).record.filter((entry) => entry.source === 'event');
    expect(events.at(-2)).toMatchObject({ type: 'home-visited', status: 'applied', lateRecording: true });
    expect(events.at(-1)?.lateRecording).toBeUndefined();
    await harness.finish(handle);
  });

  it('R-21 refuses a sign-off whose checklist the record contradicts, or with an item missing, in the update validator', async () => {
    const handle = await harness.start(await harness.input('REF-2012'));
    await allocate(harness, handle);
    const now = await harness.now();
    await send(handle, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, now);
    await send(handle, { type: 'assessment-submitted' }, now);
    const prompt = openPrompt(await state(handle), 'sign-off');
    const contradicted = await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer()).catch((e: unknown) => e);
    expect(failure(contradicted).type).toBe('invalid-decision');
    expect(failure(contradicted).message).toMatch(/home-visited-and-bedroom-seen/);
    const partial = allMet();
    delete partial['clear-evidence-for-decisions'];
    const missing = await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer({ checklist: partial })).catch((e: unknown) => e);
    expect(failure(missing)).toMatchObject({ type: 'invalid-decision' });
    // Returned to the worker: the fieldwork goes on and the assessment comes back.
    await decide(handle, prompt.promptId, 'return-to-worker', now);
    expect((await state(handle)).stage).toBe('in-progress');
    await doFieldwork(harness, handle);
    await send(handle, { type: 'assessment-submitted' }, now);
    const again = openPrompt(await state(handle), 'sign-off');
    await decide(handle, again.promptId, 'sign-off', now, signOffAnswer());
    expect((await state(handle)).stage).toBe('completed');
    await harness.finish(handle);
  });

  /** Allocates, does the fieldwork, submits and signs off; returns the handle, the input and the sign-off time. */
  async function completed(referralId: string, overrides: Parameters<AssessmentHarness['input']>[1], answer: Record<string, unknown>) {
    const input = await harness.input(referralId, overrides, 2 * DAY_MS);
    const handle = await harness.start(input);
    await allocate(harness, handle);
    const now = await harness.now();
    await doFieldwork(harness, handle);
    await send(handle, { type: 'needs-identified', service: 'SERVICE-3' }, now);
    await send(handle, { type: 'assessment-submitted' }, now);
    await decide(handle, openPrompt(await state(handle), 'sign-off').promptId, 'sign-off', now, signOffAnswer(answer));
    return { handle, input, now };
  }

  it('R-22 sign-off records the determinations, completes the assessment and sets the timeliness search attributes', async () => {
    const { handle, input, now } = await completed('REF-2013', {}, { determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false } });
    const done = await state(handle);
    expect(done).toMatchObject({
      stage: 'completed',
      outcome: 'child-in-need-plan',
      determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false },
      completedAt: iso(now),
      completedWithinTimescale: true,
      workingDaysToComplete: workingDaysBetween(testCalendar(), Date.parse(input.receivedAt), now),
      seenWithinTimescale: true,
      signedOffBy: 'MGR-1',
    });
    expect(done.openPrompts.map((p) => p.kind)).not.toContain('supervision-review');
    await harness.eventually(async () => {
      const attributes = (await handle.describe()).searchAttributes;
      expect(attributes).toMatchObject({ AssessmentStage: ['completed'], CompletedWithinTimescale: [true], SeenWithinTimescale: [true], Overdue: [false] });
      expect(attributes.WorkingDaysToComplete).toEqual([done.workingDaysToComplete]);
      expect((attributes.CompletedAt?.[0] as Date).toISOString()).toBe(iso(now));
      expect((attributes.CompletionDueAt?.[0] as Date).toISOString()).toBe(done.completionDueAt);
    });
    await harness.eventually(() => expect(harness.caseRecords(handle.workflowId).map((r) => r.kind)).toContain('assessment-outcome'));
    await harness.finish(handle);
  });

  it('R-23 an emergency-action outcome is recorded and notifies the police and the manager at once', async () => {
    const { handle } = await completed('REF-2017', {}, { outcome: 'emergency-action', determinations: { childInNeed: true, significantHarmSuspected: true, accommodationNeeded: false } });
    expect((await state(handle)).outcome).toBe('emergency-action');
    await harness.eventually(() => {
      const sent = harness.notifications(handle.workflowId).filter((n) => n.reason === 'emergency-action');
      expect(sent.map((n) => n.recipient).sort()).toEqual(['manager', 'police']);
    });
    await harness.finish(handle);
  });

  it('R-24 the outcome goes to the family, a child of 12 or more, the referrer and each service; family comments are kept alongside', async () => {
    const { handle, now } = await completed('REF-2018', { child: { childRef: 'C-1', dateOfBirth: bornYearsAgo(14) } }, {});
    const done = await state(handle);
    expect(done.outcomeSharing).toEqual([
      { recipient: 'family', status: 'sent' },
      { recipient: 'child', status: 'sent' },
      { recipient: 'referrer', status: 'sent' },
      { recipient: 'agency', status: 'sent', target: 'SERVICE-3' },
    ]);
    await harness.eventually(() => {
      // The outcome itself (the copies of the assessment go out under R-24 too: outcomes-follow-on.test.ts covers them).
      const sent = harness.notifications(handle.workflowId).filter((n) => n.rule === 'R-24' && n.reason === 'assessment-outcome');
      expect(sent.map((n) => n.recipient).sort()).toEqual(['agency', 'child', 'family', 'referrer']);
    });
    await send(handle, { type: 'family-comments-recorded', comments: 'a correction of fact' }, now);
    const commented = await state(handle);
    expect(commented.familyComments).toHaveLength(1);
    expect(commented.outcome).toBe('child-in-need-plan');
    await harness.finish(handle);

    // Withheld where sharing would put the child at risk: a recorded exception, nothing sent.
    const withheld = await completed('REF-2019', { child: { childRef: 'C-1', dateOfBirth: bornYearsAgo(14) } }, { withholdFromFamily: true });
    const exception = await state(withheld.handle);
    expect(exception.outcomeSharing.filter((s) => s.status === 'withheld').map((s) => s.recipient)).toEqual(['family', 'child']);
    expect(exception.record.filter((entry) => entry.type === 'outcome-withheld' && entry.rule === 'R-24')).toHaveLength(2);
    await harness.finish(withheld.handle);
  });

  it('R-17 a family declining to engage: signed off with parents not seen (reason given) and the family copy withheld', async () => {
    const handle = await harness.start(await harness.input('REF-2014', { child: { childRef: 'C-1', dateOfBirth: bornYearsAgo(6) }, referrerType: 'anonymous' }));
    await allocate(harness, handle);
    const now = await harness.now();
    await send(
      handle,
      {
        type: 'family-declined-engagement',
        attempts: [{ occurredAt: iso(now - HOUR_MS), method: 'visit' }, { occurredAt: iso(now), method: 'letter' }],
        reasonsForCompletingWithout: 'the child was seen at school; the concerns can be assessed without the family',
      },
      now,
    );
    await send(handle, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, now);
    await send(handle, { type: 'assessment-submitted' }, now);
    const prompt = openPrompt(await state(handle), 'sign-off');
    const checklist = {
      ...allMet(),
      'parents-seen-and-views-recorded': { met: false, reason: 'the family declined, attempts evidenced' },
      'home-visited-and-bedroom-seen': { met: false, reason: 'no access' },
      'agency-information-obtained': { met: false, reason: 'awaited' },
      'analysis-triangulated': { met: false, reason: 'single source' },
      // The second reading's items the family's refusal leaves open (procedure-checks).
      'first-visit-information-given': { met: false, reason: 'no visit was let in' },
      'parents-told-of-concerns': { met: false, reason: 'the family declined contact' },
      'views-taken-into-account': { met: false, reason: 'seen once, at school' },
      'chronology-updated': { met: false, reason: 'awaited' },
      'development-stage-recorded': { met: false, reason: 'awaited' },
    };
    await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer({ checklist, outcome: 'no-further-action' }));
    const done = await state(handle);
    expect(done.familyDeclined).toMatchObject({ attempts: 2 });
    expect(done.outcomeSharing).toEqual([
      { recipient: 'family', status: 'withheld', reason: 'the family declined to engage (R-17)' },
      { recipient: 'child', status: 'not-sent', reason: 'the child is under 12' },
      { recipient: 'referrer', status: 'not-sent', reason: 'the referral was anonymous' },
    ]);
    expect(done.record.some((entry) => entry.type === 'outcome-withheld' && entry.rule === 'R-24')).toBe(true);
    await harness.finish(handle);
  });

  it('R-28 a homeless 16 year old cannot be signed off without section 20 considered', async () => {
    const handle = await harness.start(await harness.input('REF-2015', { child: { childRef: 'C-1', dateOfBirth: iso(Date.now() - 16.5 * 365 * DAY_MS).slice(0, 10), homelessOrAtRisk: true } }));
    await allocate(harness, handle);
    await doFieldwork(harness, handle);
    const now = await harness.now();
    await send(handle, { type: 'assessment-submitted' }, now);
    const prompt = openPrompt(await state(handle), 'sign-off');
    expect((await state(handle)).homeless16Or17).toBe(true);
    const refused = await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer()).catch((e: unknown) => e);
    expect(failure(refused)).toMatchObject({ type: 'invalid-decision' });
    expect(failure(refused).message).toMatch(/R-28/);
    await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer({ section20Considered: true, determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: true } }));
    expect((await state(handle)).determinations?.accommodationNeeded).toBe(true);
    await harness.finish(handle);
  });

  it('R-25 new information on a completed assessment asks for a new decision on top, never rewriting the outcome; the workflow returns after the review window', async () => {
    const handle = await harness.start(await harness.input('REF-2016'));
    await allocate(harness, handle);
    await doFieldwork(harness, handle);
    const now = await harness.now();
    // During the assessment (since the outcomes-follow-on change, R-25 as extended) it asks what it changes.
    await send(handle, { type: 'new-information', summary: 'more' }, now);
    expect((await state(handle)).record.filter((entry) => entry.source === 'event').at(-1)).toMatchObject({ type: 'new-information', status: 'applied' });
    expect(openPrompt(await state(handle), 'new-information-review').rule).toBe('R-25');
    await send(handle, { type: 'assessment-submitted' }, now);
    await decide(handle, openPrompt(await state(handle), 'sign-off').promptId, 'sign-off', now, signOffAnswer({ outcome: 'early-help' }));
    await send(handle, { type: 'new-information', summary: 'more' }, now);
    const prompt = openPrompt(await state(handle), 'duty-decision');
    expect(prompt.rule).toBe('R-25');
    await decide(handle, prompt.promptId, 'information-and-advice', now);
    const after = await state(handle);
    expect(after.outcome).toBe('early-help');
    expect(after.subsequentDecisions).toMatchObject([{ kind: 'duty-decision', decision: 'information-and-advice', rule: 'R-25' }]);
    const result = await handle.result();
    expect(result).toEqual({ childRef: 'C-1', stage: 'completed', outcome: 'early-help', completedAt: iso(now) });
    // The whole history replays on the same code without a non-determinism error.
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter(testCodec()) }, await handle.fetchHistory(), handle.workflowId);
  });
});
