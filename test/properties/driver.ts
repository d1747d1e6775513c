/**
 * Runs one generated case on the time-skipping server: starts a referral (the whole family
 * of workflows follows from it), plays its steps (waits skip workflow time; actions pick
 * among what is open at that moment: decisions, field events; repeats, late and
 * out-of-order events, new-information streams), with the receivers down in the
 * generated windows, and after every step queries the `state` of every workflow of the
 * case and checks the invariants (invariants.ts). Returns what happened and what failed.
 *
 * The workflows of a case are left running when it ends (each case has ids of its own):
 * cancelling a workflow while one of its tasks is in flight can leave the Java test server
 * unable to skip time, which hangs every later sleep. The server is replaced every few
 * cases instead, so that they do not add up.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { DomainEvent } from '../../domain/events';
import { referralWorkflowId } from '../../domain/ids';
import { checklistItems } from '../../domain/prompts';
import { authorityPolicySchema } from '../../domain/policy';
import type { ReferralRequest } from '../../domain/referral';
import { decideUpdate, eventSignal, recordEventUpdate, stateQuery } from '../../workflows/messages';
import { referralWorkflow } from '../../workflows/referral';
import { startTestServer, type RunningServer } from '../../scripts/temporal';
import { lockTimeSkipping, onStrandedTask, timeSkippingEnvironment } from '../support/temporal';
import {
  DAY_MS,
  describeChild,
  followOnPolicyTimes,
  describeReceipt,
  MINUTE_MS,
  resolveChildren,
  resolveReceipt,
  type CaseSpec,
  type Step,
} from './case-model';
import {
  checkNotMovedLater,
  checkObservation,
  dueTimes,
  newFacts,
  type AssessmentView,
  type CaseFacts,
  type ChildInNeedPlanView,
  type Observation,
  type ReferralView,
  type Section47View,
  type StrategyView,
  type Violation,
  type WorkflowView,
} from './invariants';
import { Receivers, workerWithReceivers } from './receivers';
import { childInNeedPlan } from '../support/child-in-need-plan-example';

/** A server whose clock has run this far ahead of the real one is replaced (ages and calendars stay near today). */
const MAX_CLOCK_DRIFT_MS = 300 * DAY_MS;
/** Cases played on one test server before it is replaced (PROPERTY_CASES_PER_SERVER). */
const CASES_PER_SERVER = Number(process.env.PROPERTY_CASES_PER_SERVER ?? 10) || 10;
/** PROPERTY_TRACE=1 prints each step as it is played. */
const TRACE = process.env.PROPERTY_TRACE === '1';
/** A case whose step has not moved on for this long (real time) has stalled on the test server. */
const STALL_MS = Number(process.env.PROPERTY_STALL_SECONDS ?? 120) * 1000;
/**
 * How often a case is played in all when it stalls. A stall is mostly deterministic (the same
 * timer fires at the same point of the same case), so a case that stalls on every attempt is set aside as
 * not playable on the test server, counted and reported, rather than failed: it is the test
 * server's defect, and the real server (the fault campaign) takes the same task.
 */
const MAX_ATTEMPTS = 3;
/** The longest single sleep a step asks for. */
const MAX_SLEEP_MS = 60 * DAY_MS;

export interface StepViolation extends Violation {
  step: number;
  stepLabel: string;
}

export interface CaseReport {
  caseNumber: number;
  referralId: string;
  /** The case as resolved on the server's clock: receipt, children, outages. */
  description: string[];
  /** What each step did, with workflow times. */
  executed: string[];
  violations: StepViolation[];
  realMs: number;
  workflowMs: number;
  /** Not played to the end: it stalled on the test server on every attempt (PropertyWorld.runCase). */
  setAside?: boolean;
}

const delay = (msValue: number) => new Promise((resolve) => setTimeout(resolve, msValue));
const iso = (msValue: number) => new Date(msValue).toISOString();
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The time-skipping server, its environment and one worker with switchable receivers: shared by the cases of a run. */
export class PropertyWorld {
  private server?: RunningServer;
  env!: TestWorkflowEnvironment;
  private worker?: Worker;
  private running?: Promise<void>;
  taskQueue = '';
  readonly receivers = new Receivers();
  private cases = 0;
  private casesOnServer = 0;
  restarts = 0;
  /** Cases played again because the test server stopped skipping time (see runCase). */
  stalls = 0;
  /** Cases set aside because they stalled on every attempt (see MAX_ATTEMPTS). */
  setAside = 0;
  /** Environments of replaced servers, closed at the end of the run (see replace). */
  private readonly retired: TestWorkflowEnvironment[] = [];

  static async start(): Promise<PropertyWorld> {
    const world = new PropertyWorld();
    await world.open();
    return world;
  }

  private async open(): Promise<void> {
    this.server = await startTestServer();
    await lockTimeSkipping(this.server.address);
    this.env = await timeSkippingEnvironment(this.server.address);
    const { worker, taskQueue } = await workerWithReceivers(this.env, this.receivers);
    this.worker = worker;
    this.taskQueue = taskQueue;
    this.running = worker.run();
  }

  async stop(): Promise<void> {
    this.worker?.shutdown();
    await this.running?.catch(() => undefined);
    await this.env?.teardown().catch(() => undefined);
    await this.server?.stop();
    for (const env of this.retired.splice(0)) await env.teardown().catch(() => undefined);
  }

  /**
   * A fresh server after a stall. The stalled case may still have calls in flight on the old
   * connection: it is closed only at the end of the run, so those calls fail (and the case's
   * promise with them) rather than throw from a closed channel's retry timer.
   */
  private async replace(): Promise<void> {
    this.worker?.shutdown();
    await this.running?.catch(() => undefined);
    this.retired.push(this.env);
    await this.server?.stop();
    await this.open();
  }

  async runCase(spec: CaseSpec): Promise<CaseReport> {
    this.cases += 1;
    // A fresh server every few cases and before its clock drifts far: the workflows of
    // earlier cases are left running (cancelling them while a task is in flight can leave
    // the Java test server unable to skip time), and they would add up.
    this.casesOnServer += 1;
    if (this.casesOnServer > CASES_PER_SERVER || (await this.env.currentTimeMs()) - Date.now() > MAX_CLOCK_DRIFT_MS) {
      await this.stop();
      await this.open();
      this.restarts += 1;
      this.casesOnServer = 1;
    }
    try {
      for (let attempt = 1; ; attempt += 1) {
        const run = new CaseRun(this, spec, this.cases);
        const played = run.play();
        const outcome = await Promise.race([played.then((report) => ({ report })), run.stalled()]);
        run.stopWatching();
        if ('report' in outcome) return outcome.report;
        // The Java test server strands a run whose workflow task cancelled a timer that fired
        // while the task was with the worker: it refuses the completion ("invalid history
        // builder state for action", temporalio/sdk-java#3088), never hands the task out
        // again, and so never skips time again. The real server sends the task back with the
        // timer's event. So a stalled case is played again, from the start, on a fresh server.
        played.catch(() => undefined);
        this.stalls += 1;
        console.log(`[property] case ${this.cases}: the test server stalled at step #${outcome.step} (${outcome.stepLabel}): ${outcome.why} (temporalio/sdk-java#3088); played again on a fresh server (attempt ${attempt + 1})`);
        await this.replace();
        this.restarts += 1;
        this.casesOnServer = 1;
        if (attempt >= MAX_ATTEMPTS) {
          this.setAside += 1;
          return run.stalledReport(outcome.step, outcome.stepLabel);
        }
      }
    } finally {
      this.receivers.clear();
    }
  }
}

type EventInput = Record<string, unknown> & { type: DomainEvent['type'] };

interface Action {
  label: string;
  /** The child whose workflows it concerns (none: the referral). */
  childRef?: string;
  /** A field event (a message from the case system), as opposed to a manager's decision. */
  isMessage: boolean;
  /** How often it is picked relative to the others (the main path of a case more often than side issues). */
  weight: number;
  run: (lateMinutes: number) => Promise<string>;
}

/** The actions that move a child's case on (as opposed to side issues and acknowledgements). */
const MAIN_PATH =
  /duty decision (single-assessment|strategy-discussion)|allocate|child seen|fieldwork|assessment submitted|sign off|strategy discussion: |section 47 outcome|conference held|supervision review: continue|assessment plan recorded|safety plan agreed|child in need plan review: continue/;

/** Section 9's follow-on actions (issue 17), which a 'follow-on' step picks among. */
const FOLLOW_ON =
  /assessment plan recorded|plan action .*done|plan action overdue|immediate safety concern|safety plan|specialist|sign off: child-in-need-plan|section 47 outcome: child-in-need-plan|child in need plan review|plan sent to/;

function childOf(view: WorkflowView): { childRef?: string } {
  return view.kind === 'referral' ? {} : { childRef: view.state.childRef };
}

function pick(actions: Action[], choice: number): Action {
  const total = actions.reduce((sum, action) => sum + action.weight, 0);
  let remaining = choice % total;
  for (const action of actions) {
    if (remaining < action.weight) return action;
    remaining -= action.weight;
  }
  return actions[actions.length - 1]!;
}

interface SentEvent {
  workflowId: string;
  event: DomainEvent;
}

class CaseRun {
  private readonly env: TestWorkflowEnvironment;
  readonly referralId: string;
  private facts!: CaseFacts;
  private readonly executed: string[] = [];
  private readonly violations: StepViolation[] = [];
  private readonly seen = new Set<string>();
  private readonly sent: SentEvent[] = [];
  /** Refused events kept for a corrected resend with the same eventId, by `<childRef>:<type>`. */
  private readonly resend = new Map<string, DomainEvent>();
  private eventCount = 0;
  private step = 0;
  private stepLabel = 'start';
  private startedAt = 0;
  private last?: Observation;

  constructor(
    private readonly world: PropertyWorld,
    private readonly spec: CaseSpec,
    private readonly caseNumber: number,
  ) {
    this.env = world.env;
    this.referralId = `REF-P${caseNumber}-${Date.now().toString(36).toUpperCase()}`;
  }

  private get referralWorkflowId(): string {
    return referralWorkflowId(this.referralId);
  }

  private now(): Promise<number> {
    return this.env.currentTimeMs();
  }

  private handle(workflowId: string): WorkflowHandle {
    return this.env.client.workflow.getHandle(workflowId);
  }

  private progressAt = Date.now();
  private watching = true;
  private stranded = false;
  private readonly unsubscribe = onStrandedTask(() => {
    this.stranded = true;
  });

  /**
   * Resolves once the worker reports a stranded task (the server will not skip time again),
   * or no step has moved on for STALL_MS (see PropertyWorld.runCase).
   */
  stalled(): Promise<{ step: number; stepLabel: string; why: string }> {
    return new Promise((resolve) => {
      const check = () => {
        if (!this.watching) return;
        if (this.stranded) resolve({ step: this.step, stepLabel: this.stepLabel, why: 'it refused a workflow task completion' });
        else if (Date.now() - this.progressAt > STALL_MS) resolve({ step: this.step, stepLabel: this.stepLabel, why: `no progress for ${STALL_MS / 1000} s` });
        else setTimeout(check, 250).unref();
      };
      check();
    });
  }

  stopWatching(): void {
    this.watching = false;
    this.unsubscribe();
  }

  /** A case that stalled on every attempt: set aside (no violations), with the steps it played. */
  stalledReport(step: number, stepLabel: string): CaseReport {
    return {
      caseNumber: this.caseNumber,
      referralId: this.referralId,
      description: [`referral ${this.referralId}: set aside, the test server stopped at step #${step} (${stepLabel}) on each of ${MAX_ATTEMPTS} attempts`],
      executed: this.executed,
      violations: [],
      setAside: true,
      realMs: 0,
      workflowMs: 0,
    };
  }

  private note(text: string, atMs?: number): void {
    this.progressAt = Date.now();
    const line = `#${this.step} ${atMs === undefined ? '' : `[${iso(atMs)}] `}${text}`;
    this.executed.push(line);
    if (TRACE) console.log(`[case ${this.caseNumber}] ${line}`);
  }

  // ---- the case ----

  async play(): Promise<CaseReport> {
    const realStart = Date.now();
    const now = await this.now();
    this.startedAt = now;
    const receivedAtMs = resolveReceipt(this.spec.receipt, now);
    const children = resolveChildren(this.spec.children, now);
    this.facts = newFacts(this.referralId, receivedAtMs, this.spec.childProtectionConcern, children);
    // Section 9: the times the seeds leave open, set by the authority or not (then listed as awaiting).
    const policy = this.spec.followOnTimes ? { ...followOnPolicyTimes } : undefined;
    if (policy) this.facts.policy = authorityPolicySchema.parse(policy);
    const windows = this.spec.outages.map((outage) => ({ fromMs: now + outage.startAfterMinutes * MINUTE_MS, untilMs: now + (outage.startAfterMinutes + outage.durationMinutes) * MINUTE_MS }));
    this.world.receivers.setWindows(windows);
    const description = [
      `referral ${this.referralId} received ${describeReceipt(receivedAtMs, now)} (${this.spec.receipt.kind}), ${this.spec.childProtectionConcern ? 'child protection concern' : 'no child protection concern'}`,
      `children: ${children.map(describeChild).join('; ')}`,
      `receivers down: ${windows.length === 0 ? 'never' : windows.map((window) => `${iso(window.fromMs)} for ${((window.untilMs - window.fromMs) / 3_600_000).toFixed(1)} h`).join('; ')}`,
      `events sent by ${this.spec.transport}; case started ${iso(now)}`,
      `section 9 times: ${policy ? JSON.stringify(policy) : 'none set (steps listed as awaiting)'}`,
    ];

    this.facts.stepStarts.push(now);
    const request: ReferralRequest = {
      referralId: this.referralId,
      receivedAt: iso(receivedAtMs),
      referrerType: 'police',
      childProtectionConcern: this.spec.childProtectionConcern,
      team: 'TEAM-P1',
      managerId: 'MGR-P1',
      localAuthority: 'LA-P1',
      ...(policy ? { policy } : {}),
      children: children.map((child) => ({
        childRef: child.childRef,
        ...(child.dateOfBirth ? { dateOfBirth: child.dateOfBirth } : {}),
        ...(child.expectedDeliveryDate ? { expectedDeliveryDate: child.expectedDeliveryDate } : {}),
        ...(child.homelessOrAtRisk ? { homelessOrAtRisk: true } : {}),
      })),
    };
    await this.env.client.workflow.start(referralWorkflow, { workflowId: this.referralWorkflowId, taskQueue: this.world.taskQueue, args: [request] });
    this.note('referral started', now);
    await this.waitForDutyPrompt();
    this.last = await this.checkpoint();

    for (const [index, step] of this.spec.steps.entries()) {
      this.step = index + 1;
      this.stepLabel = step.kind;
      this.progressAt = Date.now();
      const startMs = await this.now();
      this.facts.stepStarts.push(startMs);
      if (TRACE) console.log(`[case ${this.caseNumber}] #${this.step} playing ${JSON.stringify(step)}`);
      await this.play1(step, startMs);
    }
    return {
      caseNumber: this.caseNumber,
      referralId: this.referralId,
      description,
      executed: this.executed,
      violations: this.violations,
      realMs: Date.now() - realStart,
      workflowMs: (await this.now()) - this.startedAt,
    };
  }

  private async waitForDutyPrompt(): Promise<void> {
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      const state = (await this.handle(this.referralWorkflowId)
        .query(stateQuery)
        .catch(() => undefined)) as ReferralView | undefined;
      if (state?.prompts?.some((prompt) => prompt.kind === 'duty-decision')) return;
      await delay(50);
    }
    this.note('the duty-decision prompt did not appear within 15 s');
  }

  private async play1(step: Step, startMs: number): Promise<void> {
    const before = this.last!;
    switch (step.kind) {
      case 'wait': {
        const sleep = Math.min(step.minutes * MINUTE_MS, MAX_SLEEP_MS);
        await this.env.sleep(sleep);
        this.note(`waited ${(sleep / 3_600_000).toFixed(1)} h`, startMs);
        this.last = await this.checkpoint();
        return;
      }
      case 'wait-past-due': {
        const dues = [...new Set(before.views.flatMap((view) => [...dueTimes(view).values()]))].filter((due) => due > startMs).sort((a, b) => a - b);
        const target = dues.length > 0 ? dues[step.which % dues.length]! : startMs;
        const sleep = Math.min(target - startMs + step.overMinutes * MINUTE_MS, MAX_SLEEP_MS);
        await this.env.sleep(Math.max(sleep, 1_000));
        this.note(`waited past ${dues.length > 0 ? `the due time ${iso(target)}` : 'nothing due'} (${(sleep / 3_600_000).toFixed(1)} h)`, startMs);
        this.last = await this.checkpoint();
        return;
      }
      case 'act':
        return this.act(step.choice, step.lateMinutes, startMs, before);
      case 'progress': {
        const childRef = this.facts.children[step.child % this.facts.children.length]!.childRef;
        for (let time = 0; time < step.times; time += 1) {
          const current = this.last!;
          if (time > 0) this.facts.stepStarts.push(await this.now());
          const actions = this.actions(current).filter((action) => MAIN_PATH.test(action.label) && (action.childRef === undefined || action.childRef === childRef));
          if (actions.length === 0) {
            this.note(`main path of ${childRef}: nothing to do`, await this.now());
            return;
          }
          const action = pick(actions, step.choice + time * 7919);
          const message = await action.run(0);
          this.note(`main path of ${childRef}: ${action.label}${message ? `: ${message}` : ''}`, await this.now());
          this.last = await this.checkpoint(action.isMessage ? action.label : undefined, current);
        }
        return;
      }
      case 'repeat': {
        if (this.sent.length === 0) return this.act(step.which, 0, startMs, before, 'nothing to repeat yet');
        const original = this.sent[step.which % this.sent.length]!;
        const outcome = await this.deliver(original.workflowId, original.event, { repeat: true });
        this.note(`repeated ${original.event.type} ${original.event.eventId} to ${original.workflowId}: ${outcome}`, startMs);
        this.last = await this.checkpoint(`repeat of ${original.event.type}`, before);
        return;
      }
      case 'new-information': {
        const assessment = this.assessmentOf(before, step.child);
        if (!assessment) return this.act(step.count * 7 + step.gapMinutes, 0, startMs, before, 'no assessment for new information yet');
        for (let index = 0; index < step.count; index += 1) {
          if (index > 0) await this.env.sleep(step.gapMinutes * MINUTE_MS);
          const previous = index === 0 ? before : await this.settle();
          const at = await this.now();
          if (index > 0) this.facts.stepStarts.push(at);
          const outcome = await this.sendEvent(assessment.workflowId, { type: 'new-information' }, at);
          this.note(`new-information ${index + 1}/${step.count} to ${assessment.state.childRef}: ${outcome}`, at);
          this.last = await this.checkpoint(`new-information ${index + 1} of a stream`, previous);
        }
        return;
      }
      case 'follow-on': {
        const childRef = this.facts.children[step.child % this.facts.children.length]!.childRef;
        const all = this.actions(before).filter((action) => action.childRef === undefined || action.childRef === childRef);
        const followOn = all.filter((action) => FOLLOW_ON.test(action.label));
        // The gateways first (a sign-off or an enquiry's outcome to a plan, a plan's review), then one in three steps along the main path towards them.
        const gateways = followOn.filter((action) => /child-in-need-plan|child in need plan review/.test(action.label));
        const mainPath = all.filter((action) => MAIN_PATH.test(action.label));
        const pool = gateways.length > 0 ? gateways : followOn.length > 0 && (step.choice % 3 !== 0 || mainPath.length === 0) ? followOn : mainPath;
        if (pool.length === 0) return this.act(step.choice, 0, startMs, before, `no follow-on or main-path action for ${childRef} yet`);
        const action = pick(pool, step.choice);
        const message = await action.run(0);
        this.note(`${followOn.length > 0 ? 'follow-on' : 'towards the follow-on'} of ${childRef}: ${action.label}${message ? `: ${message}` : ''}`, startMs);
        this.last = await this.checkpoint(action.isMessage ? action.label : undefined, before);
        return;
      }
      case 'significant-harm': {
        const assessment = this.assessmentOf(before, step.child);
        if (!assessment) return this.act(step.child + step.lateMinutes, step.lateMinutes, startMs, before, 'no assessment for a significant-harm concern yet');
        const occurredAt = this.lateTime(startMs, step.lateMinutes);
        this.facts.strategyTriggers.push({ childRef: assessment.state.childRef, cause: 'significant-harm-suspected', atMs: occurredAt });
        const outcome = await this.sendEvent(assessment.workflowId, { type: 'significant-harm-suspected' }, occurredAt, { recordedAt: startMs });
        this.note(`significant-harm-suspected for ${assessment.state.childRef} (occurred ${iso(occurredAt)}): ${outcome}`, startMs);
        this.last = await this.checkpoint('significant-harm-suspected', before);
        return;
      }
      case 'out-of-order': {
        const assessment = this.assessmentOf(before, step.child);
        if (!assessment) return this.act(step.child + step.event.length, 0, startMs, before, `no assessment for an out-of-order ${step.event} yet`);
        const fields: Record<string, EventInput> = {
          'assessment-submitted': { type: 'assessment-submitted' },
          'child-seen': { type: 'child-seen', seenAlone: true, viewsRecorded: true },
          'home-visited': { type: 'home-visited', bedroomSeen: true },
        };
        const event = this.event(fields[step.event]!, startMs);
        const outcome = await this.deliver(assessment.workflowId, event);
        this.note(`out-of-order ${step.event} ${event.eventId} to ${assessment.state.childRef} (stage ${assessment.state.stage}): ${outcome}`, startMs);
        const after = await this.checkpoint(`out-of-order ${step.event}`, before);
        this.last = after;
        const view = after.views.find((candidate) => candidate.workflowId === assessment.workflowId);
        const entry = view?.state.record.find((candidate) => candidate.source === 'event' && candidate.ref === event.eventId);
        if (entry?.status === 'rejected' || outcome.startsWith('refused')) this.resend.set(`${assessment.state.childRef}:${step.event}`, event);
        return;
      }
    }
  }

  /** One of the actions open now (weighted), dated `lateMinutes` back; a targeted step with nothing to target acts instead. */
  private async act(choice: number, lateMinutes: number, startMs: number, before: Observation, instead?: string): Promise<void> {
    const actions = this.actions(before);
    const prefix = instead ? `${instead}, so instead: ` : '';
    if (instead) this.stepLabel = `act, instead of ${this.stepLabel}`;
    if (actions.length === 0) {
      this.note(`${prefix}nothing to do`, startMs);
      return;
    }
    const action = pick(actions, choice);
    const message = await action.run(lateMinutes);
    this.note(`${prefix}${action.label}${message ? `: ${message}` : ''}`, startMs);
    this.last = await this.checkpoint(action.isMessage ? action.label : undefined, before);
  }

  // ---- observing and checking ----

  private async observe(): Promise<Observation> {
    const beforeMs = await this.now();
    const views: WorkflowView[] = [];
    const queryErrors: Observation['queryErrors'] = [];
    const queue = [this.referralWorkflowId];
    const queued = new Set(queue);
    const enqueue = (id: string | undefined) => {
      if (id && !queued.has(id)) {
        queued.add(id);
        queue.push(id);
      }
    };
    while (queue.length > 0) {
      const workflowId = queue.shift()!;
      let state: unknown;
      try {
        state = await this.handle(workflowId).query(stateQuery);
      } catch (error) {
        // A child workflow the parent has asked for but the server has not started yet.
        if (/not found|NotFound/i.test(`${(error as Error)?.name} ${errorText(error)}`) && !this.seen.has(workflowId)) continue;
        queryErrors.push({ workflowId, error: errorText(error) });
        continue;
      }
      this.seen.add(workflowId);
      const view = toView(workflowId, state);
      if (!view) continue;
      views.push(view);
      if (view.kind === 'referral') for (const entry of view.state.assessments ?? []) enqueue(entry.workflowId);
      if (view.kind === 'assessment') for (const entry of view.state.strategyDiscussions ?? []) enqueue(entry.workflowId);
      // R-43, R-44: the child in need plans a sign-off or an enquiry's outcome started.
      if (view.kind === 'assessment') for (const entry of view.state.followOn?.childInNeedPlans ?? []) enqueue(entry.workflowId);
      if (view.kind === 'strategy') enqueue(view.state.section47WorkflowId);
      if (view.kind === 's47') enqueue(view.state.childInNeedPlan?.workflowId);
    }
    return { beforeMs, afterMs: await this.now(), views, queryErrors };
  }

  /** Observes until two readings 80 ms apart agree (work in flight has landed), for at most 2.5 s. */
  private async settle(): Promise<Observation> {
    let last = await this.observe();
    const until = Date.now() + 2_500;
    for (;;) {
      await delay(80);
      const next = await this.observe();
      if (fingerprint(next) === fingerprint(last) || Date.now() > until) return next;
      last = next;
    }
  }

  /** Settles, checks the invariants (and, after a message, that no due time moved later), records what failed. */
  private async checkpoint(message?: string, before?: Observation): Promise<Observation> {
    let observation = await this.settle();
    let found = checkObservation(observation, this.facts);
    if (found.some((violation) => timingSensitive(violation))) {
      // Give work that has just been released a moment to land before calling it late.
      await delay(300);
      observation = await this.settle();
      found = checkObservation(observation, this.facts);
    }
    if (message && before) found.push(...checkNotMovedLater(before, observation, message));
    for (const violation of found) this.record(violation);
    return observation;
  }

  private record(violation: Violation): void {
    const key = `${violation.invariant}|${violation.workflowId.replace(this.referralId, '')}|${violation.what}`;
    if (this.seenViolations.has(key)) return;
    this.seenViolations.add(key);
    this.violations.push({ ...violation, step: this.step, stepLabel: this.stepLabel });
  }

  private readonly seenViolations = new Set<string>();

  // ---- messages ----

  private lateTime(nowMs: number, lateMinutes: number): number {
    return Math.max(nowMs - lateMinutes * MINUTE_MS, this.facts.receivedAtMs);
  }

  private event(fields: EventInput, occurredAtMs: number, options: { recordedAt?: number; eventId?: string } = {}): DomainEvent {
    this.eventCount += 1;
    return {
      eventId: options.eventId ?? `EV-P${this.caseNumber}-${this.eventCount}`,
      occurredAt: iso(occurredAtMs),
      ...(options.recordedAt !== undefined && options.recordedAt > occurredAtMs ? { recordedAt: iso(options.recordedAt) } : {}),
      actor: 'SW-P1',
      ...fields,
    } as DomainEvent;
  }

  /** Sends a new event (or the corrected resend of a refused one of the same kind, with its eventId). */
  private async sendEvent(workflowId: string, fields: EventInput, occurredAtMs: number, options: { recordedAt?: number; childRef?: string } = {}): Promise<string> {
    const key = options.childRef ? `${options.childRef}:${fields.type}` : undefined;
    const refused = key ? this.resend.get(key) : undefined;
    if (key && refused) this.resend.delete(key);
    const event = this.event(fields, occurredAtMs, { ...options, ...(refused ? { eventId: refused.eventId } : {}) });
    const outcome = await this.deliver(workflowId, event, { correctedResend: refused !== undefined });
    return refused ? `${outcome} (corrected resend of refused ${refused.eventId})` : outcome;
  }

  /**
   * Delivers an event by the case's transport. By update, the answer is checked against the
   * contract: a refused event fails with `event-refused` and leaves its eventId unused.
   */
  private async deliver(workflowId: string, event: DomainEvent, options: { repeat?: boolean; correctedResend?: boolean } = {}): Promise<string> {
    if (!options.repeat) this.sent.push({ workflowId, event });
    const handle = this.handle(workflowId);
    if (this.spec.transport === 'signal') {
      try {
        await handle.signal(eventSignal, event);
        return 'signalled';
      } catch (error) {
        return `signal failed: ${errorText(error)}`;
      }
    }
    let answer: { duplicate: boolean } | undefined;
    let refusal: string | undefined;
    try {
      answer = await handle.executeUpdate(recordEventUpdate, { args: [event] });
    } catch (error) {
      const cause = error instanceof WorkflowUpdateFailedError ? (error.cause as { type?: string; message?: string } | undefined) : undefined;
      // A repeat is refused by the validator, unwritten, as a duplicate (the API answers 202 duplicate).
      if (cause?.type === 'duplicate-event') answer = { duplicate: true };
      else if (error instanceof WorkflowUpdateFailedError) {
        refusal = cause?.type ?? 'unknown';
        if (refusal !== 'event-refused') return `update failed: ${refusal} ${cause?.message ?? ''}`;
        return `refused (event-refused: ${cause?.message ?? ''})`;
      } else return `update failed: ${errorText(error)}`;
    }
    if (!answer) return 'no answer';
    // Accepted or duplicate: what does the record say about this eventId?
    const state = (await handle.query(stateQuery).catch(() => undefined)) as { record?: Array<{ source: string; ref?: string; status: string; reason?: string }> } | undefined;
    const entries = (state?.record ?? []).filter((entry) => entry.source === 'event' && entry.ref === event.eventId);
    const applied = entries.some((entry) => entry.status === 'applied');
    const last = entries.at(-1);
    const add = (what: string, detail: string) => this.record({ invariant: 'I6-refused-event', workflowId, what, detail });
    if (!answer.duplicate && last?.status === 'rejected') {
      add(`refused ${event.type} answered as accepted`, `${event.type} ${event.eventId} was refused (${last.reason ?? 'no reason'}) but the update answered { duplicate: false } instead of failing with event-refused`);
      return `accepted, but the record shows it refused: ${last.reason ?? ''}`;
    }
    if (answer.duplicate && !applied) {
      add(
        `${event.type} eventId used up by a refused event`,
        `${event.type} ${event.eventId}${options.correctedResend ? ' (a corrected resend)' : ''} answered { duplicate: true } but no event with that id was ever applied: the earlier, refused delivery used up the id`,
      );
      return 'dropped as a duplicate of a refused event';
    }
    return answer.duplicate ? 'duplicate' : 'applied';
  }

  private async decide(workflowId: string, promptId: string, decision: string, decidedAtMs: number, extra: Record<string, unknown> = {}): Promise<string> {
    try {
      await this.handle(workflowId).executeUpdate(decideUpdate, {
        args: [{ promptId, decision, rationale: 'recorded by the manager', decidedBy: 'MGR-P1', decidedAt: iso(decidedAtMs), ...extra } as never],
      });
      return 'accepted';
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause as { type?: string; message?: string } | undefined;
        return `refused (${cause?.type ?? '?'}: ${cause?.message ?? ''})`;
      }
      return `failed: ${errorText(error)}`;
    }
  }

  // ---- what can be done now ----

  private assessmentOf(observation: Observation, childIndex: number): Extract<WorkflowView, { kind: 'assessment' }> | undefined {
    const assessments = observation.views.filter((view): view is Extract<WorkflowView, { kind: 'assessment' }> => view.kind === 'assessment');
    if (assessments.length === 0) return undefined;
    return assessments[childIndex % assessments.length];
  }

  private actions(observation: Observation): Action[] {
    const actions: Action[] = [];
    const decision = (
      view: WorkflowView,
      promptId: string,
      label: string,
      value: string,
      extra: (decidedAtMs: number) => Record<string, unknown> = () => ({}),
      after?: (decidedAtMs: number, outcome: string) => void,
      weight = 1,
    ) => {
      const prompt = view.state.prompts.find((candidate) => candidate.promptId === promptId);
      actions.push({
        label: `${view.workflowId.replace(`-${this.referralId}`, '')}: ${label}`,
        ...childOf(view),
        isMessage: false,
        weight,
        run: async (lateMinutes) => {
          const now = await this.now();
          const decidedAt = Math.max(now - lateMinutes * MINUTE_MS, prompt ? Date.parse(prompt.raisedAt) : now);
          const outcome = await this.decide(view.workflowId, promptId, value, decidedAt, extra(decidedAt));
          after?.(decidedAt, outcome);
          return `${outcome}${decidedAt < now ? ` (dated ${iso(decidedAt)})` : ''}`;
        },
      });
    };
    const event = (view: WorkflowView, label: string, fields: EventInput | EventInput[], childRef?: string, weight = 1) => {
      actions.push({
        label: `${view.workflowId.replace(`-${this.referralId}`, '')}: ${label}`,
        ...childOf(view),
        isMessage: true,
        weight,
        run: async (lateMinutes) => {
          const now = await this.now();
          const occurredAt = this.lateTime(now, lateMinutes);
          const outcomes: string[] = [];
          for (const one of Array.isArray(fields) ? fields : [fields]) {
            outcomes.push(await this.sendEvent(view.workflowId, one, occurredAt, { recordedAt: now, ...(childRef ? { childRef } : {}) }));
          }
          return `${outcomes.join(', ')}${occurredAt < now ? ` (occurred ${iso(occurredAt)})` : ''}`;
        },
      });
    };
    const acknowledge = (view: WorkflowView) => {
      for (const prompt of view.state.openPrompts.filter((candidate) => candidate.kind === 'escalation')) {
        decision(view, prompt.promptId, `acknowledge escalation (${prompt.about ?? '?'})`, 'acknowledge', () => ({ action: 'escalated to the team manager' }));
      }
    };

    for (const view of observation.views) {
      const open = (kind: string) => view.state.openPrompts.find((prompt) => prompt.kind === kind);
      switch (view.kind) {
        case 'referral': {
          const state: ReferralView = view.state;
          if (state.stage === 'closed') break;
          const duty = open('duty-decision');
          if (duty) {
            for (const value of ['single-assessment', 'strategy-discussion', 'early-help']) {
              decision(view, duty.promptId, `duty decision ${value}`, value, undefined, undefined, value === 'early-help' ? 1 : 4);
            }
            if ((state as ReferralView & { consent?: string }).consent === 'unknown') {
              event(view, 'consent given', { type: 'consent-recorded', given: true });
              event(view, 'consent refused', { type: 'consent-recorded', given: false });
            }
          }
          const override = open('consent-override');
          if (override) {
            decision(view, override.promptId, 'consent override approved', 'approve');
            decision(view, override.promptId, 'consent override refused', 'refuse');
          }
          acknowledge(view);
          break;
        }
        case 'assessment': {
          const state: AssessmentView = view.state;
          const childRef = state.childRef;
          const strategyRunning = (state.strategyDiscussions ?? []).some((entry) => entry.status === 'starting' || entry.status === 'running');
          const allocation = open('allocation');
          if (allocation) {
            for (const track of ['S17', 'S47']) {
              for (const assessmentType of ['brief', 'complex']) {
                decision(
                  view,
                  allocation.promptId,
                  `allocate ${track} ${assessmentType}`,
                  'allocate',
                  () => ({ socialWorkerId: 'SW-P1', track, assessmentType }),
                  (decidedAtMs, outcome) => {
                    if (outcome === 'accepted') this.facts.allocations.set(childRef, { decidedAtMs, track, strategyRunning });
                  },
                  2,
                );
              }
            }
          }
          if (state.stage === 'in-progress') {
            event(view, 'child seen', { type: 'child-seen', seenAlone: true, viewsRecorded: true }, childRef, 3);
            event(view, 'child seen, immediate concerns', { type: 'child-seen', seenAlone: true, viewsRecorded: true, immediateConcerns: true }, childRef);
            event(
              view,
              'fieldwork (home, parent, agency, analysis)',
              [
                { type: 'home-visited', bedroomSeen: true },
                { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true },
                { type: 'agency-information-received', agency: 'health' },
                { type: 'analysis-completed', sources: ['SRC-1', 'SRC-2'] },
              ],
              childRef,
              3,
            );
            event(view, 'assessment submitted', { type: 'assessment-submitted' }, childRef, 3);
            event(view, 'crime suspected', { type: 'crime-suspected' }, childRef);
            event(view, 'needs identified', { type: 'needs-identified', service: 'SERVICE-P1' }, childRef);
            // R-31: the assessment plan (a new version each time), its actions' dates ahead of the case's clock.
            const planFrom = observation.beforeMs;
            event(
              view,
              'assessment plan recorded',
              {
                type: 'assessment-plan-recorded',
                actions: [
                  { actionRef: 'ACT-1', action: 'see the child at school', owner: 'SW-P1', dueBy: iso(planFrom + 3 * DAY_MS) },
                  { actionRef: 'ACT-2', action: 'ask the health visitor for information', owner: 'SW-P1', dueBy: iso(planFrom + 8 * DAY_MS) },
                ],
                contacts: [{ who: 'parent', how: 'visit', when: iso(planFrom + 2 * DAY_MS) }],
              },
              childRef,
              2,
            );
            for (const action of state.followOn?.assessmentPlan.actions ?? []) {
              if (!action.done) event(view, `plan action ${action.actionRef} done`, { type: 'assessment-plan-action-done', actionRef: action.actionRef }, childRef);
            }
            // R-33, R-45: immediate safety, a specialist assessment asked for, its result arriving.
            event(view, 'immediate safety concern', { type: 'immediate-safety-concern' }, childRef);
            event(view, 'specialist assessment requested', { type: 'specialist-assessment-requested', ...specialistRequest(state) }, childRef);
          }
          if (state.stage !== 'awaiting-allocation') {
            for (const entry of state.followOn?.specialistAssessments ?? []) {
              if (entry.status === 'awaiting') event(view, `specialist result ${entry.requestRef} received`, { type: 'specialist-assessment-result-received', requestRef: entry.requestRef }, childRef);
            }
          }
          const planAction = open('plan-action-overdue');
          if (planAction) {
            decision(view, planAction.promptId, 'plan action overdue: done', 'done');
            decision(view, planAction.promptId, 'plan action overdue: new date (+3 days)', 'new-date', (at) => ({ dueBy: iso(at + 3 * DAY_MS) }));
          }
          const planReview = open('assessment-plan-review');
          if (planReview) decision(view, planReview.promptId, 'assessment plan review: no change', 'no-change');
          const safety = open('safety-planning');
          if (safety) {
            decision(view, safety.promptId, 'safety plan agreed (5 days)', 'safety-plan-agreed', (at) => ({ commitments: [{ who: 'grandmother', does: 'stays with the family at night' }], agreedUntil: iso(at + 5 * DAY_MS) }), undefined, 2);
            decision(view, safety.promptId, 'safety planning: not needed', 'not-needed');
          }
          const safetyReview = open('safety-plan-review');
          if (safetyReview) {
            decision(view, safetyReview.promptId, 'safety plan renewed (5 days)', 'renew', (at) => ({ agreedUntil: iso(at + 5 * DAY_MS) }));
            decision(view, safetyReview.promptId, 'safety plan ended', 'end');
          }
          const newInformation = open('new-information-review');
          if (newInformation) {
            decision(view, newInformation.promptId, 'new information: no change', 'no-change');
            decision(view, newInformation.promptId, 'new information: specialist assessment', 'specialist-assessment', () => ({ specialistAssessment: specialistRequest(state) }));
          }
          if (strategyRunning && state.stage !== 'completed') {
            if (state.stage !== 'in-progress') event(view, 'child seen (section 47)', { type: 'child-seen', seenAlone: true, viewsRecorded: true }, childRef, 3);
            event(view, 'conference held', { type: 'child-protection-conference-held' }, childRef, 2);
          }
          const visit = open('visit-overdue');
          if (visit) {
            decision(view, visit.promptId, 'visit rescheduled (+2 days)', 'reschedule', (at) => ({ visitDueAt: iso(at + 2 * DAY_MS) }));
            decision(view, visit.promptId, 'child not to be seen', 'not-to-be-seen');
          }
          const review = open('supervision-review');
          if (review) {
            decision(view, review.promptId, 'supervision review: continue', 'continue', undefined, undefined, 2);
            decision(view, review.promptId, 'supervision review: extend to complex', 'extend-to-complex');
            decision(view, review.promptId, 'supervision review: strategy discussion', 'strategy-discussion', () => ({}), (at, outcome) => {
              if (outcome === 'accepted') this.facts.strategyTriggers.push({ childRef, cause: 'supervision-review', atMs: at });
            });
          }
          const extend = open('extend-to-complex');
          if (extend) {
            decision(view, extend.promptId, 'extend to complex: approve', 'approve');
            decision(view, extend.promptId, 'extend to complex: refuse', 'refuse');
          }
          const exceed = open('exceed-timescale');
          if (exceed && state.completionDueAt) {
            const moved = Date.parse(state.completionDueAt) + 10 * DAY_MS;
            decision(view, exceed.promptId, 'exceed timescale: approve (+10 days)', 'approve', () => ({ completionDueAt: iso(moved) }), (_at, outcome) => {
              if (outcome === 'accepted') this.facts.completionMovedByManager.add(childRef);
            });
            decision(view, exceed.promptId, 'exceed timescale: refuse', 'refuse');
          }
          const signOff = open('sign-off');
          if (signOff) {
            const checklist = Object.fromEntries(
              checklistItems.map((item) => {
                const shown = (state as AssessmentView & { checklistEvidence?: Record<string, { shown: unknown }> }).checklistEvidence?.[item]?.shown;
                return [item, shown === false ? { met: false, reason: 'not done: recorded by the manager' } : { met: true }];
              }),
            );
            const homeless = this.facts.children.find((child) => child.childRef === childRef)?.homelessOrAtRisk === true;
            for (const outcome of ['child-in-need-plan', 'no-further-action', 'strategy-discussion', 'emergency-action', 'specialist-assessment']) {
              const harm = outcome === 'strategy-discussion' || outcome === 'emergency-action';
              decision(
                view,
                signOff.promptId,
                `sign off: ${outcome}`,
                'sign-off',
                (at) => ({
                  outcome,
                  determinations: { childInNeed: outcome === 'child-in-need-plan', significantHarmSuspected: harm, accommodationNeeded: false },
                  checklist,
                  primaryNeedCode: harm ? 'N1' : 'N9',
                  assessmentFactors: harm ? ['16A'] : ['21'],
                  ...(homeless ? { section20Considered: true } : {}),
                  // R-44: a child in need plan outcome states the plan (its reviews ahead of the case's clock).
                  ...(outcome === 'child-in-need-plan' ? { childInNeedPlan: childInNeedPlan(at) } : {}),
                  // R-45: a specialist assessment outcome names its request.
                  ...(outcome === 'specialist-assessment' ? { specialistAssessment: specialistRequest(state) } : {}),
                }),
                (at, result) => {
                  if (result === 'accepted' && outcome === 'strategy-discussion') this.facts.strategyTriggers.push({ childRef, cause: 'sign-off-outcome', atMs: at });
                },
                2,
              );
            }
            decision(view, signOff.promptId, 'return to the worker', 'return-to-worker');
          }
          if (state.stage === 'completed') {
            event(view, 'new information', { type: 'new-information' }, childRef, 2);
            event(view, 'family comments', { type: 'family-comments-recorded' }, childRef);
            const duty = open('duty-decision');
            if (duty) {
              decision(view, duty.promptId, 'decision on new information: advice', 'information-and-advice');
              decision(view, duty.promptId, 'decision on new information: strategy discussion', 'strategy-discussion', () => ({}), (at, outcome) => {
                if (outcome === 'accepted') this.facts.strategyTriggers.push({ childRef, cause: 'new-information', atMs: at });
              });
            }
          }
          acknowledge(view);
          break;
        }
        case 'strategy': {
          const state: StrategyView = view.state;
          const outcome = open('strategy-discussion-outcome');
          if (outcome && state.stage === 'awaiting-discussion') {
            for (const value of ['section-47-enquiry', 'no-section-47', 'emergency-action']) {
              decision(view, outcome.promptId, `strategy discussion: ${value}`, value, () => ({ attendees: ['police', 'health', 'social-care'] }), undefined, value === 'section-47-enquiry' ? 4 : 1);
            }
          }
          acknowledge(view);
          break;
        }
        case 'cin-plan': {
          const state: ChildInNeedPlanView = view.state;
          if (state.stage !== 'open') break;
          const review = open('cin-plan-review');
          if (review) {
            decision(view, review.promptId, 'child in need plan review: continue (next in 30 days)', 'continue', (at) => ({ nextReviewAt: iso(at + 30 * DAY_MS) }), undefined, 2);
            if (state.nextReviewAt !== undefined) decision(view, review.promptId, 'child in need plan review: continue', 'continue');
            decision(view, review.promptId, 'child in need plan review: close (RC7)', 'close', () => ({ reasonForClosure: 'RC7' }));
            decision(view, review.promptId, 'child in need plan review: step up', 'step-up', () => ({ route: 'strategy-discussion' }));
          }
          for (const agencyRef of state.agenciesNotSent ?? []) event(view, `plan sent to ${agencyRef}`, { type: 'cin-plan-sent', agencyRef });
          event(view, 'child in need plan review asked for', { type: 'cin-plan-review-requested' });
          acknowledge(view);
          break;
        }
        case 's47': {
          const state: Section47View = view.state;
          const outcome = open('section-47-outcome');
          if (outcome && state.childSeenAt !== undefined) {
            for (const value of ['initial-child-protection-conference', 'child-in-need-plan', 'not-substantiated']) {
              const plan = value === 'child-in-need-plan' ? (at: number) => ({ childInNeedPlan: childInNeedPlan(at) }) : undefined;
              decision(view, outcome.promptId, `section 47 outcome: ${value}`, value, plan, undefined, value === 'initial-child-protection-conference' ? 4 : 1);
            }
          }
          acknowledge(view);
          break;
        }
      }
    }
    return actions;
  }
}

/** R-45: a specialist assessment request with a reference not used before in this assessment. */
function specialistRequest(state: AssessmentView): { requestRef: string; kind: 'psychological'; provider: string } {
  return { requestRef: `SPA-${(state.followOn?.specialistAssessments.length ?? 0) + 1}`, kind: 'psychological', provider: 'CAMHS' };
}

function toView(workflowId: string, state: unknown): WorkflowView | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  if (workflowId.startsWith('referral-')) return { kind: 'referral', workflowId, state: state as ReferralView };
  if (workflowId.startsWith('assessment-')) return { kind: 'assessment', workflowId, state: state as AssessmentView };
  if (workflowId.startsWith('strategy-')) return { kind: 'strategy', workflowId, state: state as StrategyView };
  if (workflowId.startsWith('s47-')) return { kind: 's47', workflowId, state: state as Section47View };
  if (workflowId.startsWith('cin-plan-')) return { kind: 'cin-plan', workflowId, state: state as ChildInNeedPlanView };
  return undefined;
}

function fingerprint(observation: Observation): string {
  return JSON.stringify(
    observation.views.map((view) => [
      view.workflowId,
      view.state.stage,
      view.state.record?.length,
      view.state.prompts?.length,
      view.state.openPrompts?.length,
      view.kind === 'referral' ? view.state.assessments?.map((entry) => entry.status) : undefined,
      view.kind === 'assessment' ? view.state.strategyDiscussions?.map((entry) => entry.status) : undefined,
    ]),
  );
}

function timingSensitive(violation: Violation): boolean {
  return (
    violation.invariant === 'I2-pending-past-due' ||
    (violation.invariant === 'I2-escalated-late' && violation.what.endsWith('not escalated')) ||
    (violation.invariant === 'I5-overdue-flag' && violation.what.endsWith('false past due'))
  );
}
