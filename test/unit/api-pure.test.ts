import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../api/canonical';
import { toTimeline, type DecodedEvent } from '../../api/history';
import { assessmentListQuery, assessmentListQuerySchema } from '../../api/routes/assessments';
import { sortPrompts } from '../../api/routes/prompts';
import { aggregateTimeliness, median, monthsBetween, periodBounds } from '../../api/timeliness';
import { literal } from '../../api/visibility';

describe('timeliness aggregation', () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it('counts per month, shares of those known, the median, and open work past due', () => {
    const report = aggregateTimeliness({
      from: '2026-09',
      to: '2026-11',
      now,
      completed: [
        { completedAt: '2026-09-30T23:30:00Z', workingDaysToComplete: 40, completedWithinTimescale: true, seenWithinTimescale: true }, // 1 October in London
        { completedAt: '2026-10-10T10:00:00Z', workingDaysToComplete: 46, completedWithinTimescale: false },
        { completedAt: '2026-10-11T10:00:00Z', workingDaysToComplete: 10, completedWithinTimescale: true, seenWithinTimescale: false },
        { completedAt: '2026-10-12T10:00:00Z', workingDaysToComplete: 20 },
        { completedAt: '2026-11-01T10:00:00Z' },
      ],
      open: [
        { completionDueAt: '2026-11-20T17:00:00Z' },
        { completionDueAt: '2026-10-20T17:00:00Z', overdue: true },
        { overdue: true },
        { completionDueAt: '2026-12-20T17:00:00Z' },
        {},
      ],
    });
    expect(report.openPastDueTotal).toBe(3);
    expect(report.periods.map((period) => period.period)).toEqual(['2026-09', '2026-10', '2026-11']);
    const [september, october, november] = report.periods;
    expect(september).toMatchObject({ completed: 0, medianWorkingDaysToComplete: null, within45WorkingDays: { count: 0, of: 0, share: null }, openPastDue: 0 });
    expect(october).toMatchObject({
      completed: 4,
      within45WorkingDays: { count: 3, of: 4, share: 0.75 },
      withinOwnTimescale: { count: 2, of: 3 },
      seenWithinTimescale: { count: 1, of: 2, share: 0.5 },
      medianWorkingDaysToComplete: 30,
      openPastDue: 1,
    });
    expect(november).toMatchObject({ completed: 1, medianWorkingDaysToComplete: null, within45WorkingDays: { of: 0, share: null }, openPastDue: 1 });
  });

  it('has months and bounds in Europe/London', () => {
    expect(monthsBetween('2026-11', '2027-02')).toEqual(['2026-11', '2026-12', '2027-01', '2027-02']);
    expect(periodBounds('2026-07', '2026-07')).toEqual({ start: '2026-06-30T23:00:00.000Z', end: '2026-07-31T23:00:00.000Z' });
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNull();
  });
});

describe('visibility queries', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  const query = (input: Record<string, string>) => assessmentListQuery(assessmentListQuerySchema.parse(input), now);

  it('says what each status means', () => {
    expect(query({})).toBe("WorkflowType = 'assessmentWorkflow' AND ExecutionStatus != 'ContinuedAsNew'");
    expect(query({ status: 'open', team: 'T1', track: 'S47' })).toBe("WorkflowType = 'assessmentWorkflow' AND ExecutionStatus = 'Running' AND Team = 'T1' AND AssessmentTrack = 'S47'");
    expect(query({ status: 'overdue' })).toContain(
      "CompletedAt IS NULL AND (Overdue = true OR CompletionDueAt < '2026-11-23T12:00:00.000Z' OR AwaitingSteps IN ('past-due', 'time-not-set'))",
    );
    expect(query({ status: 'delivery-failing', type: 'strategy-discussion' })).toBe(
      "WorkflowType = 'strategyDiscussionWorkflow' AND ExecutionStatus = 'Running' AND FailingDeliveries > 0",
    );
    expect(query({ status: 'awaiting-decision' })).toContain("OpenPromptKinds IN ('duty-decision', ");
    expect(query({ status: 'completed', type: 'referral' })).toBe("WorkflowType = 'referralWorkflow' AND CompletedAt IS NOT NULL AND ExecutionStatus != 'ContinuedAsNew'");
  });

  it('refuses a literal that could break out of its quotes', () => {
    expect(() => literal("T1' OR 1=1")).toThrow();
  });
});

describe('prompt order', () => {
  it('puts the oldest due first, undated ones last, ties by when raised', () => {
    const sorted = sortPrompts([
      { promptId: 'a', raisedAt: '2026-11-01T09:00:00Z' },
      { promptId: 'b', raisedAt: '2026-11-02T09:00:00Z', dueBy: '2026-11-10T09:00:00Z' },
      { promptId: 'c', raisedAt: '2026-11-03T09:00:00Z', dueBy: '2026-11-05T09:00:00Z' },
      { promptId: 'd', raisedAt: '2026-10-31T09:00:00Z' },
    ]);
    expect(sorted.map((prompt) => prompt.promptId)).toEqual(['c', 'b', 'd', 'a']);
  });
});

describe('canonical body hash', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}');
    expect(sha256Hex(canonicalJson({ a: 1, b: 2 }))).toBe(sha256Hex(canonicalJson({ b: 2, a: 1 })));
  });
});

describe('timeline', () => {
  it('says what happened, who did it and under which rule, and leaves out workflow tasks', () => {
    const event = (eventId: number, type: string, attributes: Record<string, unknown>): DecodedEvent => ({ workflowId: 'assessment-REF-1-C-1', eventId, time: `2026-11-23T10:00:0${eventId}.000Z`, type, attributes });
    const timeline = toTimeline([
      event(1, 'WORKFLOW_EXECUTION_STARTED', { workflowType: { name: 'assessmentWorkflow' } }),
      event(2, 'WORKFLOW_TASK_SCHEDULED', {}),
      event(3, 'WORKFLOW_EXECUTION_SIGNALED', { signalName: 'event', input: [{ type: 'child-seen', eventId: 'EV-1', actor: 'SW-1' }] }),
      event(4, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED', { acceptedRequest: { input: { name: 'decide', args: [{ decision: 'approve', promptId: 'p~x-1', decidedBy: 'MGR-1', rule: 'R-19' }] } } }),
      event(5, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED', { outcome: { success: [{ duplicate: true }] } }),
      event(6, 'CHILD_WORKFLOW_EXECUTION_STARTED', { workflowExecution: { workflowId: 'strategy-REF-1-C-1-1' } }),
    ]);
    expect(timeline).toEqual([
      expect.objectContaining({ eventId: 1, what: 'workflow assessmentWorkflow started' }),
      expect.objectContaining({ eventId: 3, what: 'event child-seen received', who: 'SW-1', ref: 'EV-1' }),
      expect.objectContaining({ eventId: 4, what: "decision 'approve' on p~x-1", who: 'MGR-1', rule: 'R-19' }),
      expect.objectContaining({ eventId: 5, what: 'update a duplicate, nothing changed' }),
      expect.objectContaining({ eventId: 6, what: 'child workflow strategy-REF-1-C-1-1 started', ref: 'strategy-REF-1-C-1-1' }),
    ]);
  });
});

describe('page tokens', () => {
  it('a token issued for one list is refused by the other, with 400 naming nextPageToken (never sent on to Temporal)', async () => {
    const { decodePageToken, encodePageToken } = await import('../../api/visibility');
    const raw = Buffer.from('2026-11-23T17:00:00.000Z~W~sign-off-1', 'utf8');
    expect(decodePageToken(encodePageToken(raw, 'prompt-list'), 'prompt-list').equals(raw)).toBe(true);
    expect(decodePageToken(encodePageToken(raw)).equals(raw)).toBe(true);
    for (const [issuedFor, sentTo] of [['prompt-list', 'visibility'], ['visibility', 'prompt-list']] as const) {
      let refused: unknown;
      try {
        decodePageToken(encodePageToken(raw, issuedFor), sentTo);
      } catch (error) {
        refused = error;
      }
      expect(refused).toMatchObject({ status: 400, extra: { issues: [{ path: 'nextPageToken' }] } });
    }
  });
});
