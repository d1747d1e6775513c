import { Router, type Request } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Prompt } from '../../domain/prompts';
import { promptKindTitles, ruleLines } from '../../domain/rule-lines';
import { stateQuery } from '../../workflows/messages';
import { auditTarget } from '../audit';
import { principalOf } from '../auth';
import { HttpError } from '../errors';
import { decodedHistories, toTimeline, type TimelineEntry } from '../history';
import { caseWorkflowIdSchema, safeCaseWorkflowId } from '../ids';
import { assertCaseInScope } from '../scope';
import type { PagesContext } from './index';
import { humanise } from './render';
import { lateness, workingDaysLeft } from './working-days';

/**
 * A case page (`/cases/:workflowId`, any of the four workflows): stage, deadlines with
 * working days left, overdue flags, open prompts, links to the related workflows, and the
 * timeline (who, what, when, which rule) from the same decoded history as
 * `GET /v1/assessments/:id/history`, each child workflow held to the caller's scope.
 */
interface CaseState {
  workflowId?: string;
  referralId?: string;
  childRef?: string;
  stage?: string;
  track?: string;
  assessmentType?: string;
  team?: string;
  socialWorkerId?: string;
  outcome?: string;
  completedAt?: string;
  allocatedAt?: string;
  allocationDueAt?: string;
  visitDueAt?: string;
  childSeenAt?: string;
  completionDueAt?: string;
  dutyDecisionDueAt?: string;
  dutyDecision?: unknown;
  deadlines?: Array<{ name: string; dueAt: string }>;
  overdue?: Record<string, unknown>;
  dutyDecisionOverdue?: boolean;
  openPrompts?: Prompt[];
  strategyDiscussions?: Array<{ workflowId: string; section47WorkflowId?: string; status: string; calledAt?: string }>;
  assessments?: Array<{ workflowId: string; childRef: string; status: string }>;
  assessmentWorkflowId?: string;
  strategyDiscussionWorkflowId?: string;
  [key: string]: unknown;
}

/** Lines of the timeline a person reads; the mechanics (workflow tasks, timers set, activity completions) are left to the raw history. */
const MECHANICS = /^(update applied|update completed|activity completed|activity task started|deadline timer set|deadline timer fired|timer canceled|status updated|workflow task)/;

export function caseRoutes(pages: PagesContext): Router {
  const router = Router();
  const workflowIdOf = (req: Request) => safeCaseWorkflowId(req.params.workflowId);

  router.get('/cases/:workflowId', ...pages.page('page.case', ['manager', 'operations'], workflowIdOf), async (req, res) => {
    const parsed = caseWorkflowIdSchema.safeParse(req.params.workflowId);
    if (!parsed.success) throw new HttpError(404, 'not-found', 'no such case');
    const workflowId = parsed.data;
    const principal = principalOf(res);
    let state: CaseState;
    let timeline: TimelineEntry[];
    let truncated = false;
    try {
      state = (await pages.ctx.client.workflow.getHandle(workflowId).query(stateQuery)) as CaseState;
      const histories = await decodedHistories(pages.ctx.client, workflowId, (childId) =>
        assertCaseInScope(pages.ctx.client, principal, childId, pages.ctx.scope).then(
          () => true,
          () => false,
        ),
      );
      truncated = histories.truncated !== undefined;
      timeline = toTimeline(histories.events);
      auditTarget(res, { workflowIds: [...new Set(histories.events.map((event) => event.workflowId))] });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new HttpError(404, 'not-found', 'no such case');
      throw error;
    }
    const now = pages.ctx.now();
    const overdueFlags = Object.entries(state.overdue ?? {})
      .filter(([, value]) => value === true)
      .map(([name]) => humanise(name));
    if (state.dutyDecisionOverdue) overdueFlags.push('Duty decision');
    const related = [
      ...(state.referralId && !workflowId.startsWith('referral-') ? [{ href: `referral-${state.referralId}`, text: `Referral referral-${state.referralId}` }] : []),
      ...(state.assessments ?? []).map((assessment) => ({ href: assessment.workflowId, text: `Assessment ${assessment.workflowId} (${humanise(assessment.status)})` })),
      ...(state.strategyDiscussions ?? []).flatMap((discussion) => [
        { href: discussion.workflowId, text: `Strategy discussion ${discussion.workflowId} (${humanise(discussion.status)})` },
        ...(discussion.section47WorkflowId ? [{ href: discussion.section47WorkflowId, text: `Section 47 enquiry ${discussion.section47WorkflowId}` }] : []),
      ]),
      ...(typeof state.assessmentWorkflowId === 'string' ? [{ href: state.assessmentWorkflowId, text: `Assessment ${state.assessmentWorkflowId}` }] : []),
      ...(typeof state.strategyDiscussionWorkflowId === 'string' ? [{ href: state.strategyDiscussionWorkflowId, text: `Strategy discussion ${state.strategyDiscussionWorkflowId}` }] : []),
    ];
    pages.render(res, 'case.njk', {
      title: `Case ${workflowId}`,
      workflowId,
      state,
      facts: [
        ['Stage', state.stage ? humanise(state.stage) : undefined],
        ['Track', state.track],
        ['Assessment type', state.assessmentType ? humanise(state.assessmentType) : undefined],
        ['Team', state.team],
        ['Social worker', state.socialWorkerId],
        ['Outcome', state.outcome ? humanise(state.outcome) : undefined],
      ].filter(([, value]) => value !== undefined),
      deadlines: (state.deadlines ?? [])
        .filter((deadline) => !deadline.name.startsWith('prompt:'))
        .map((deadline) => {
          const left = workingDaysLeft(deadline.dueAt, now);
          const late = lateness(deadline.dueAt, now);
          return { name: humanise(deadline.name), dueAt: deadline.dueAt, left: late ? undefined : left, late };
        }),
      overdueFlags,
      keyDates: [
        ['Duty decision due', state.dutyDecision === undefined ? state.dutyDecisionDueAt : undefined],
        ['Allocation due', state.allocatedAt === undefined ? state.allocationDueAt : undefined],
        ['Visit due', state.childSeenAt === undefined ? state.visitDueAt : undefined],
        ['Completion due', state.completedAt === undefined ? state.completionDueAt : undefined],
      ]
        .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
        .map(([name, dueAt]) => ({ name, dueAt, late: lateness(dueAt, now), left: workingDaysLeft(dueAt, now) })),
      openPrompts: (state.openPrompts ?? []).map((prompt) => ({
        ...prompt,
        title: promptKindTitles[prompt.kind] ?? prompt.kind,
        ruleTitle: ruleLines[prompt.rule]?.title ?? '',
        lateness: lateness(prompt.dueBy, now),
      })),
      canAnswer: principal.roles.includes('manager'),
      related,
      timeline: timeline
        .filter((entry) => !MECHANICS.test(entry.what))
        .reverse()
        .map((entry) => ({ ...entry, ruleTitle: entry.rule ? (ruleLines[entry.rule]?.title ?? '') : '' })),
      truncated,
    });
  });

  return router;
}
