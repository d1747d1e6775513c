import { afterAll, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { buildWorkingCalendar } from '../../activities/calendar';
import { defaultPolicy } from '../../domain/policy';
import type { AssessmentInput, CaseContext, StrategyDiscussionInput } from '../../domain/process';
import type { ChildInNeedPlanInput } from '../../domain/child-in-need-plan';
import { childInNeedPlan } from './child-in-need-plan-example';
import { checklistItems, type Prompt } from '../../domain/prompts';
import type { DomainEvent } from '../../domain/events';
import type { WorkingCalendar } from '../../domain/working-days';
import { assessmentWorkflow, assessmentWorkflowId, type AssessmentState } from '../../workflows/assessment';
import { strategyDiscussionWorkflow, strategyDiscussionWorkflowId } from '../../workflows/strategy-discussion';
import { decideUpdate, eventSignal, stateQuery } from '../../workflows/messages';
import { startTestServer, type RunningServer } from '../../scripts/temporal';
import { lockTimeSkipping, timeSkippingEnvironment, timeSkippingWorker } from './temporal';
import { FIRST_VISIT_INFORMATION, procedureFieldwork } from './procedure-fieldwork';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const iso = (ms: number) => new Date(ms).toISOString();
/** A date of birth `years` years before today, so that a child's age in a test never drifts. */
export const bornYearsAgo = (years: number) => new Date(Date.now() - years * 365.25 * DAY_MS).toISOString().slice(0, 10);

let calendarCache: WorkingCalendar | undefined;
/** The parent loads the calendar by activity; tests build the same data directly. */
export function testCalendar(): WorkingCalendar {
  const year = new Date().getUTCFullYear();
  calendarCache ??= buildWorkingCalendar({ region: 'england-and-wales', timeZone: 'Europe/London', fromYear: year - 1, toYear: year + 4 });
  return calendarCache;
}

/** What every workflow of a test case is started with: a referral from health, team TEAM-1, the default policy. */
export function testCaseContext(referralId: string, receivedAt: string): CaseContext {
  return {
    referralId,
    receivedAt,
    referrerType: 'health',
    childProtectionConcern: false,
    team: 'TEAM-1',
    managerId: 'MGR-1',
    localAuthority: 'LA-1',
    policy: defaultPolicy,
    calendar: testCalendar(),
  };
}

/** A child in need plan's workflow input as an assessment's sign-off starts it, its plan from `childInNeedPlan`. */
export function childInNeedPlanInput(referralId: string, nowMs: number, overrides: Partial<ChildInNeedPlanInput> = {}): ChildInNeedPlanInput {
  return {
    ...testCaseContext(referralId, iso(nowMs - 30 * DAY_MS)),
    childRef: 'C-1',
    origin: { kind: 'assessment' },
    startedAt: iso(nowMs),
    decidedBy: 'MGR-1',
    plan: childInNeedPlan(nowMs),
    ...overrides,
  };
}

export type Handle = WorkflowHandle<typeof assessmentWorkflow>;

/** One worker for a test file, running in the background on its own task queue. */
export class AssessmentHarness {
  private running?: Promise<void>;
  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly worker: Worker,
    readonly taskQueue: string,
    readonly outboxDir: string,
  ) {}

  static async start(env: TestWorkflowEnvironment, make: (env: TestWorkflowEnvironment) => ReturnType<typeof timeSkippingWorker> = timeSkippingWorker): Promise<AssessmentHarness> {
    const { worker, taskQueue, outboxDir } = await make(env);
    const harness = new AssessmentHarness(env, worker, taskQueue, outboxDir);
    harness.running = worker.run();
    return harness;
  }

  async stop(): Promise<void> {
    this.worker.shutdown();
    await this.running;
  }

  now(): Promise<number> {
    return this.env.currentTimeMs();
  }

  async input(referralId: string, overrides: Partial<AssessmentInput> = {}, receivedAgoMs = HOUR_MS): Promise<AssessmentInput> {
    const now = await this.now();
    return {
      ...testCaseContext(referralId, iso(now - receivedAgoMs)),
      child: { childRef: 'C-1', dateOfBirth: bornYearsAgo(10) },
      track: 'S17',
      strategyDiscussionNow: false,
      consent: 'given',
      householdChildRefs: ['C-1'],
      ...overrides,
    };
  }

  async start(input: AssessmentInput): Promise<Handle> {
    return this.env.client.workflow.start(assessmentWorkflow, {
      workflowId: assessmentWorkflowId(input.referralId, input.child.childRef),
      taskQueue: this.taskQueue,
      args: [input],
    });
  }

  /** Starts a strategy discussion for child C-1 directly (as an assessment would), called now. */
  async startStrategyDiscussion(referralId: string, overrides: Partial<StrategyDiscussionInput> = {}): Promise<WorkflowHandle<typeof strategyDiscussionWorkflow>> {
    const now = await this.now();
    const input: StrategyDiscussionInput = {
      referralId,
      receivedAt: iso(now - HOUR_MS),
      referrerType: 'police',
      childProtectionConcern: true,
      team: 'TEAM-1',
      managerId: 'MGR-1',
      policy: defaultPolicy,
      calendar: testCalendar(),
      childRef: 'C-1',
      sequence: 1,
      calledAt: iso(now),
      ...overrides,
    };
    return this.env.client.workflow.start(strategyDiscussionWorkflow, {
      workflowId: strategyDiscussionWorkflowId(referralId, input.childRef, input.sequence),
      taskQueue: this.taskQueue,
      args: [input],
    });
  }

  /**
   * Ends a test's workflow once its outbound work has settled: the time-skipping server
   * stops skipping while an activity of a terminated workflow is still outstanding.
   */
  async finish(handle: WorkflowHandle): Promise<void> {
    if ((await handle.describe()).status.name !== 'RUNNING') return;
    // Children first: the test server stops skipping time for good when a parent is
    // cancelled while a child it started is still running.
    for (const childId of await this.runningChildren(handle)) await this.finish(this.env.client.workflow.getHandle(childId));
    // A child in need plan is closed by its own review, not cancelled: the test server stops
    // skipping time when a child started by another workflow is cancelled.
    if (await this.closePlan(handle)) return;
    await this.eventually(async () => {
      const described = await handle.describe();
      if ((described.raw.pendingActivities ?? []).length > 0) throw new Error('activities still pending');
      // A workflow task in flight when a workflow is terminated keeps the test server from skipping time.
      const events = (await handle.fetchHistory()).events ?? [];
      const lastCompleted = events.map((event) => Boolean(event.workflowTaskCompletedEventAttributes)).lastIndexOf(true);
      if (events.slice(lastCompleted + 1).some((event) => event.workflowTaskScheduledEventAttributes)) throw new Error('workflow task pending');
    });
    // Cancelled, not terminated: the workflow closes in a task of its own, so none is left in flight.
    await handle.cancel();
    // On two loaded cores the cancellation's workflow task can take a while to be picked up.
    await this.eventually(async () => {
      if ((await handle.describe()).status.name === 'RUNNING') throw new Error('still running');
    }, 30_000);
  }

  /** Closes an open child in need plan through a review it asks for; false when `handle` is no open plan. */
  private async closePlan(handle: WorkflowHandle): Promise<boolean> {
    const current = (await handle.query(stateQuery).catch(() => undefined)) as { planManagerId?: string; stage?: string; openPrompts?: Prompt[] } | undefined;
    if (current?.planManagerId === undefined || current.stage !== 'open') return false;
    if (!current.openPrompts?.some((prompt) => prompt.kind === 'cin-plan-review')) {
      await handle.signal(eventSignal, { type: 'cin-plan-review-requested', eventId: `EV-CLOSE-${handle.workflowId.replace(/[^A-Za-z0-9_-]/g, '_').slice(-40)}`, occurredAt: iso(await this.now()), actor: 'SW-1' } as DomainEvent);
    }
    const prompt = await this.eventually(async () => {
      const open = ((await handle.query(stateQuery)) as { openPrompts: Prompt[] }).openPrompts.find((candidate) => candidate.kind === 'cin-plan-review');
      if (!open) throw new Error('no review prompt yet');
      return open;
    });
    await handle.executeUpdate(decideUpdate, {
      args: [{ promptId: prompt.promptId, decision: 'close', reasonForClosure: 'RC7', rationale: 'the test is over', decidedBy: 'MGR-1', decidedAt: iso(await this.now()) } as never],
    });
    await handle.result();
    return true;
  }

  /** The child workflows a case workflow says are running (assessments, strategy discussions, a section 47 enquiry). */
  private async runningChildren(handle: WorkflowHandle): Promise<string[]> {
    const current = (await handle.query(stateQuery).catch(() => undefined)) as
      | {
          assessments?: Array<{ workflowId: string; status: string }>;
          strategyDiscussions?: Array<{ workflowId: string; status: string }>;
          stage?: string;
          section47WorkflowId?: string;
          followOn?: { childInNeedPlans: Array<{ workflowId: string; status: string }> };
          childInNeedPlan?: { workflowId: string; status: string };
        }
      | undefined;
    if (!current) return [];
    const running = (entries: Array<{ workflowId: string; status: string }> = []) =>
      entries.filter((entry) => entry.status === 'running' || entry.status === 'starting').map((entry) => entry.workflowId);
    const children = [
      ...running(current.assessments),
      ...running(current.strategyDiscussions),
      // child in need plans outlive what started them, but a test ends them too.
      ...running(current.followOn?.childInNeedPlans),
      ...running(current.childInNeedPlan ? [current.childInNeedPlan] : []),
    ];
    if (current.stage === 'section-47-enquiry' && current.section47WorkflowId) children.push(current.section47WorkflowId);
    const open: string[] = [];
    for (const childId of children) {
      const described = await this.env.client.workflow.getHandle(childId).describe().catch(() => undefined);
      if (described?.status.name === 'RUNNING') open.push(childId);
    }
    return open;
  }

  notifications(workflowId: string): Array<Record<string, unknown>> {
    return this.outbox('notification', workflowId);
  }

  caseRecords(workflowId: string): Array<Record<string, unknown>> {
    return this.outbox('case-record', workflowId);
  }

  /** What the outbound activities wrote for one workflow, one JSON object a line. */
  private outbox(channel: 'notification' | 'case-record', workflowId: string): Array<Record<string, unknown>> {
    const file = join(this.outboxDir, `${channel}.jsonl`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.workflowId === workflowId);
  }

  /** Waits (in real time, without skipping) until the check passes: activities and timers settle asynchronously. */
  async eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > until) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

export const state = async (handle: Handle) => (await handle.query(stateQuery)) as AssessmentState;

export function openPrompt(current: AssessmentState, kind: Prompt['kind']): Prompt {
  const prompt = current.openPrompts.find((candidate) => candidate.kind === kind);
  if (!prompt) throw new Error(`no open ${kind} prompt; open: ${current.openPrompts.map((p) => p.kind).join(', ')}`);
  return prompt;
}

export async function decide(handle: Handle, promptId: string, decision: string, decidedAtMs: number, extra: Record<string, unknown> = {}) {
  return handle.executeUpdate(decideUpdate, {
    args: [{ promptId, decision, rationale: 'reasons recorded by the manager', decidedBy: 'MGR-1', decidedAt: iso(decidedAtMs), ...extra }],
  });
}

let eventCounter = 0;
export async function send(handle: Handle, event: Record<string, unknown> & { type: DomainEvent['type'] }, occurredAtMs: number) {
  eventCounter += 1;
  const full = { eventId: `EV-${eventCounter}-${Math.floor(occurredAtMs / 1000)}`, occurredAt: iso(occurredAtMs), actor: 'SW-1', ...event } as DomainEvent;
  await handle.signal(eventSignal, full);
  return full;
}

export { childInNeedPlan } from './child-in-need-plan-example';

export const allMet = () => Object.fromEntries(checklistItems.map((item) => [item, { met: true }]));

/** Allocates through the decide update and returns the state after it. */
export async function allocate(harness: AssessmentHarness, handle: Handle, extra: Record<string, unknown> = {}) {
  const prompt = openPrompt(await state(handle), 'allocation');
  const now = await harness.now();
  await decide(handle, prompt.promptId, 'allocate', now, { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief', ...extra });
  return state(handle);
}

/** The fieldwork that makes every checklist item evidenced in the record. */
export async function doFieldwork(harness: AssessmentHarness, handle: Handle) {
  const now = await harness.now();
  await send(handle, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, now);
  await send(handle, { type: 'home-visited', bedroomSeen: true, informationGiven: FIRST_VISIT_INFORMATION }, now);
  await send(handle, { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true }, now);
  await send(handle, { type: 'agency-information-received', agency: 'health' }, now);
  await send(handle, { type: 'analysis-completed', sources: ['SRC-1', 'SRC-2'] }, now);
  // The second reading's items (procedure-checks): the parents told, the child's wishes, chronology, development.
  for (const event of procedureFieldwork) await send(handle, event as Parameters<typeof send>[1], now);
}

/**
 * A test file's own time-skipping server, environment and worker, started before its tests
 * and stopped after them. Its own server, because the server's clock only moves forward:
 * days skipped by one file would otherwise age the children of the next (R-11, R-24, R-28
 * depend on ages). `assign` hands them to the file's variables; `make` builds the worker.
 */
export function useTimeSkippingHarness(
  assign: (ready: { env: TestWorkflowEnvironment; harness: AssessmentHarness }) => void,
  make?: (env: TestWorkflowEnvironment) => ReturnType<typeof timeSkippingWorker>,
): void {
  let server: RunningServer | undefined;
  let ready: { env: TestWorkflowEnvironment; harness: AssessmentHarness } | undefined;
  beforeAll(async () => {
    server = await startTestServer();
    await lockTimeSkipping(server.address);
    const env = await timeSkippingEnvironment(server.address);
    ready = { env, harness: await AssessmentHarness.start(env, make) };
    assign(ready);
  });
  afterAll(async () => {
    await ready?.harness.stop();
    await ready?.env.teardown();
    await server?.stop();
  });
}
