/**
 * Drives one whole case through the HTTP API only, as a case management system and its
 * managers would: the referral, the duty decision, allocation, the fieldwork events, and
 * sign-off; for an s47 case, a strategy discussion, its section 47 enquiry and that
 * enquiry's outcome on the way. Every request is retried with the same body (same eventId)
 * by the ApiClient; this file decides what the answers mean.
 */
import { checklistItems } from '../../domain/prompts';
import { ApiClient, GaveUpError, sleep } from './http';
import { CHILD_REF, CONTRIBUTING_AGENCY, caseWorkflowIds, type CaseScenario } from './plan';
import { childInNeedPlan } from '../../test/support/child-in-need-plan-example';

export interface Tokens {
  system: string;
  socialWorker: string;
  manager: string;
  operations: string;
}

export interface DriverFindings {
  /** Events answered `duplicate: true` on a retry: the first attempt had reached the workflow. */
  duplicateEventsOnRetry: number;
  /** Events answered `duplicate: true` on their first attempt (never expected). */
  duplicateEventsFirstAttempt: number;
  /** Decisions answered 409 on a retry that the read-back showed applied: the first answer was lost. */
  decisionsAppliedBeforeLostAnswer: number;
  /** Decisions answered 200 `duplicate: true` on a retry by their Idempotency-Key: the first answer was lost, the recorded decision came back. */
  decisionsRepeatedByKey: number;
  /** 422 on an event: the driver sent something that does not fit the stage (a driver bug). */
  refusedEvents: string[];
  /** Any other answer the driver did not expect. */
  unexpectedAnswers: string[];
}

export function newDriverFindings(): DriverFindings {
  return { duplicateEventsOnRetry: 0, duplicateEventsFirstAttempt: 0, decisionsAppliedBeforeLostAnswer: 0, decisionsRepeatedByKey: 0, refusedEvents: [], unexpectedAnswers: [] };
}

export interface CaseRun {
  scenario: CaseScenario;
  startedAt?: number;
  completedAt?: number;
  /** The step a stuck case stopped at, and why. */
  stuck?: { step: string; reason: string };
}

export interface DriverContext {
  api: ApiClient;
  tokens: Tokens;
  findings: DriverFindings;
  /** Bound of each wait for the engine to get somewhere (a prompt raised, a child workflow started). */
  waitMs: number;
}

class DriverError extends Error {}

interface Prompt {
  promptId: string;
  kind: string;
  status?: string;
  decision?: string;
}

interface CaseState {
  stage?: string;
  outcome?: string;
  openPrompts?: Prompt[];
  prompts?: Prompt[];
  dutyDecisionOverdue?: boolean;
  childSeenAt?: string;
  strategyDiscussions?: Array<{ status: string }>;
}

const statePath = (workflowId: string, referralId: string) =>
  workflowId === `referral-${referralId}` ? `/v1/referrals/${referralId}` : `/v1/assessments/${workflowId}`;

/** A date of birth `years` years (and 100 days) ago, far from any birthday that would change the outcome's recipients. */
function dateOfBirth(years: number): string {
  const date = new Date();
  date.setUTCFullYear(date.getUTCFullYear() - years);
  date.setUTCDate(date.getUTCDate() - 100);
  return date.toISOString().slice(0, 10);
}

export async function driveCase(ctx: DriverContext, run: CaseRun): Promise<void> {
  const { scenario } = run;
  const ids = caseWorkflowIds(scenario);
  const ref = scenario.referralId;
  let step = 'referral';
  let eventSequence = 0;
  const eventToken = scenario.index % 2 === 0 ? ctx.tokens.socialWorker : ctx.tokens.system;

  const readState = async (workflowId: string): Promise<CaseState | undefined> => {
    const answer = await ctx.api.call<CaseState>('GET', statePath(workflowId, ref), { token: ctx.tokens.manager });
    if (answer.status === 200) return answer.body;
    if (answer.status !== 404) ctx.findings.unexpectedAnswers.push(`${ref} ${step}: GET ${workflowId} answered ${answer.status}`);
    return undefined;
  };

  const waitFor = async <T>(what: string, workflowId: string, pick: (state: CaseState) => T | undefined, extraMs = 0): Promise<T> => {
    const until = Date.now() + ctx.waitMs + extraMs;
    let pause = 250;
    for (;;) {
      const state = await readState(workflowId);
      const value = state ? pick(state) : undefined;
      if (value !== undefined) return value;
      if (Date.now() > until) throw new DriverError(`waited ${Math.round((ctx.waitMs + extraMs) / 1000)} s for ${what}`);
      await sleep(pause);
      pause = Math.min(pause * 1.5, 2_000);
    }
  };

  const openPrompt = (kind: string) => (state: CaseState) => state.openPrompts?.find((prompt) => prompt.kind === kind);

  const event = async (workflowId: string, type: string, fields: Record<string, unknown> = {}) => {
    eventSequence += 1;
    step = `event ${type}`;
    // A system names the member of staff it sends for; a social worker's own id comes from their token.
    const actor = eventToken === ctx.tokens.system ? { actor: scenario.socialWorkerId } : {};
    const body = { type, eventId: `EV-${ref}-${eventSequence}`, occurredAt: new Date().toISOString(), ...actor, ...fields };
    const answer = await ctx.api.call<{ accepted?: boolean; duplicate?: boolean; message?: string }>('POST', `/v1/assessments/${workflowId}/events`, {
      token: eventToken,
      body,
    });
    if (answer.status === 202) {
      if (answer.body?.duplicate) {
        if (answer.attempts > 1) ctx.findings.duplicateEventsOnRetry += 1;
        else ctx.findings.duplicateEventsFirstAttempt += 1;
      }
      return;
    }
    const detail = `${ref} ${type} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
    if (answer.status === 422) ctx.findings.refusedEvents.push(detail);
    else ctx.findings.unexpectedAnswers.push(detail);
    throw new DriverError(`event ${type} answered ${answer.status}`);
  };

  const decide = async (workflowId: string, prompt: Prompt, body: Record<string, unknown>): Promise<CaseState | undefined> => {
    step = `decision ${prompt.kind}`;
    const full: Record<string, unknown> = { rationale: `chaos campaign: ${prompt.kind}`, decidedAt: new Date().toISOString(), ...body };
    // Retry-safe by key (issue 16): a retry whose first answer was lost gets the recorded decision back.
    const answer = await ctx.api.call<{ state?: CaseState; error?: string; duplicate?: boolean }>('POST', `/v1/prompts/${prompt.promptId}/decision`, {
      token: ctx.tokens.manager,
      body: full,
      headers: { 'idempotency-key': `chaos-${prompt.promptId}` },
    });
    if (answer.status === 200) {
      if (answer.body.duplicate) {
        if (answer.attempts > 1) ctx.findings.decisionsRepeatedByKey += 1;
        else ctx.findings.unexpectedAnswers.push(`${ref} ${prompt.promptId}: answered as a repeat on its first attempt`);
        // A repeat's answer carries the decision, not necessarily the state: read the case back.
        return answer.body.state ?? (await readState(workflowId));
      }
      return answer.body.state;
    }
    if (answer.status === 409) {
      // Answered already: by this decision, whose answer was lost to a fault? Read the case back.
      const state = await readState(workflowId);
      const recorded = state?.prompts?.find((candidate) => candidate.promptId === prompt.promptId);
      if (recorded?.status === 'answered' && recorded.decision === full.decision) {
        if (answer.attempts > 1) ctx.findings.decisionsAppliedBeforeLostAnswer += 1;
        else ctx.findings.unexpectedAnswers.push(`${ref} ${prompt.promptId}: 409 on the first attempt, yet answered with this decision`);
        return state;
      }
      ctx.findings.unexpectedAnswers.push(`${ref} ${prompt.promptId}: 409 and the prompt is ${recorded?.status ?? 'missing'} (${recorded?.decision ?? 'no decision'})`);
      throw new DriverError(`decision on ${prompt.promptId} answered 409`);
    }
    ctx.findings.unexpectedAnswers.push(`${ref} ${prompt.promptId} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    throw new DriverError(`decision on ${prompt.promptId} answered ${answer.status}`);
  };

  try {
    // ---- referral ----
    const deadline = scenario.kind === 'deadline';
    const now = Date.now();
    const referral = {
      referralId: ref,
      // An hour ago; a deadline case so long ago that its duty decision (1 hour with a child protection concern) comes due shortly.
      receivedAt: new Date(deadline ? now - 3_600_000 + (scenario.dutyDueAfterMs ?? 0) : now - 3_600_000).toISOString(),
      referrerType: scenario.referrerType,
      childProtectionConcern: deadline,
      team: scenario.team,
      managerId: 'MGR-1',
      ...(deadline ? { policy: { dutyDecisionChildProtectionHours: 1 } } : {}),
      children: [{ childRef: CHILD_REF, dateOfBirth: dateOfBirth(scenario.childAge), schoolAge: true }],
    };
    const started = await ctx.api.call<unknown>('POST', '/v1/referrals', { token: ctx.tokens.system, body: referral });
    if (started.status !== 201 && started.status !== 200) {
      ctx.findings.unexpectedAnswers.push(`${ref} referral → ${started.status} ${JSON.stringify(started.body).slice(0, 300)}`);
      throw new DriverError(`referral answered ${started.status}`);
    }
    if (started.status === 200 && started.attempts === 1) ctx.findings.unexpectedAnswers.push(`${ref}: referral answered 200 (already received) on its first attempt`);
    run.startedAt = Date.now();

    // ---- duty decision (a deadline case waits for the escalation first) ----
    if (deadline) {
      step = 'waiting for the duty decision deadline to escalate';
      await waitFor('the overdue duty decision', ids.referral, (state) => (state.dutyDecisionOverdue ? true : undefined), scenario.dutyDueAfterMs ?? 0);
    }
    step = 'waiting for the duty-decision prompt';
    const duty = await waitFor('the duty-decision prompt', ids.referral, openPrompt('duty-decision'));
    await decide(ids.referral, duty, { decision: 'single-assessment' });

    // ---- allocation ----
    step = 'waiting for the allocation prompt';
    const allocation = await waitFor('the allocation prompt', ids.assessment, openPrompt('allocation'));
    await decide(ids.assessment, allocation, { decision: 'allocate', socialWorkerId: scenario.socialWorkerId, track: 'S17', assessmentType: 'brief' });

    // ---- fieldwork ----
    const childSeen = { seenAlone: true, viewsRecorded: true };
    if (scenario.kind === 's47' && ids.strategy && ids.section47) {
      await event(ids.assessment, 'home-visited', { bedroomSeen: true, informationGiven: { introductoryLetterAndPack: true, consentForm: true, complaintsProcedure: true } });
      await event(ids.assessment, 'significant-harm-suspected');
      step = 'waiting for the strategy discussion';
      const outcomePrompt = await waitFor('the strategy-discussion-outcome prompt', ids.strategy, openPrompt('strategy-discussion-outcome'));
      await decide(ids.strategy, outcomePrompt, { decision: 'section-47-enquiry', attendees: ['police', 'health'] });
      step = 'waiting for the section 47 enquiry';
      const enquiryPrompt = await waitFor('the section-47-outcome prompt', ids.section47, openPrompt('section-47-outcome'));
      // Sent to the assessment, which forwards it to the running enquiry.
      await event(ids.assessment, 'child-seen', childSeen);
      step = 'waiting for the enquiry to learn the child was seen';
      await waitFor('childSeenAt on the section 47 enquiry', ids.section47, (state) => state.childSeenAt);
      await decide(ids.section47, enquiryPrompt, {
        decision: scenario.section47Outcome ?? 'not-substantiated',
        // the enquiry's child in need plan outcome states its plan.
        ...(scenario.section47Outcome === 'child-in-need-plan' ? { childInNeedPlan: childInNeedPlan(Date.now()) } : {}),
      });
      step = 'waiting for the strategy discussion to conclude';
      await waitFor('the concluded strategy discussion', ids.assessment, (state) => (state.strategyDiscussions?.[0]?.status === 'concluded' ? true : undefined));
    } else {
      await event(ids.assessment, 'child-seen', childSeen);
      await event(ids.assessment, 'home-visited', { bedroomSeen: true, informationGiven: { introductoryLetterAndPack: true, consentForm: true, complaintsProcedure: true } });
    }
    await event(ids.assessment, 'parent-seen', { parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true });
    await event(ids.assessment, 'agency-information-received', { agency: CONTRIBUTING_AGENCY });
    if (scenario.needsService) await event(ids.assessment, 'needs-identified', { service: scenario.needsService });
    if (scenario.crimeSuspected) await event(ids.assessment, 'crime-suspected');
    await event(ids.assessment, 'analysis-completed', { sources: ['SRC-1', 'SRC-2'] });
    // The second reading's checklist items (procedure-checks): the parents told, the child's wishes, chronology, development.
    await event(ids.assessment, 'parents-told-of-concerns', { status: 'told' });
    await event(ids.assessment, 'child-wishes-recorded', { method: 'direct-work', howUsed: 'the plan follows what the child asked for', explanationGiven: true, sharedWithParents: true });
    await event(ids.assessment, 'chronology-updated');
    await event(ids.assessment, 'development-stage-recorded');
    await event(ids.assessment, 'assessment-submitted');

    // ---- sign-off ----
    step = 'waiting for the sign-off prompt';
    const signOffPrompt = await waitFor('the sign-off prompt', ids.assessment, openPrompt('sign-off'));
    const signed = await decide(ids.assessment, signOffPrompt, {
      decision: 'sign-off',
      outcome: scenario.outcome,
      determinations: { childInNeed: scenario.outcome === 'child-in-need-plan', significantHarmSuspected: scenario.kind === 's47', accommodationNeeded: false },
      checklist: Object.fromEntries(checklistItems.map((item) => [item, { met: true }])),
      primaryNeedCode: scenario.kind === 's47' ? 'N1' : 'N9',
      assessmentFactors: scenario.kind === 's47' ? ['16A'] : ['21'],
      ...(scenario.outcome === 'child-in-need-plan' ? { childInNeedPlan: childInNeedPlan(Date.now()) } : {}),
      // a specialist assessment outcome names the request.
      ...(scenario.outcome === 'specialist-assessment' ? { specialistAssessment: { requestRef: `SPA-${scenario.index}`, kind: 'psychological', provider: 'child and adolescent mental health service' } } : {}),
    });
    step = 'sign-off';
    if (signed?.stage !== 'completed' || signed.outcome !== scenario.outcome) {
      throw new DriverError(`signed off, yet the assessment is ${signed?.stage ?? 'unknown'} with outcome ${signed?.outcome ?? 'none'}`);
    }
    run.completedAt = Date.now();
  } catch (error) {
    if (!(error instanceof DriverError) && !(error instanceof GaveUpError)) throw error;
    run.stuck = { step, reason: error.message };
  }
}
