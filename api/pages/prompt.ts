import { Router, type Request, type Response } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import { workflowIdOfPrompt } from '../../domain/ids';
import type { Prompt } from '../../domain/prompts';
import { promptKindTitles, ruleLines } from '../../domain/rule-lines';
import { stateQuery } from '../../workflows/messages';
import { principalOf } from '../auth';
import { earlierInvolvement } from '../earlier-involvement';
import { submitDecision } from '../decisions';
import { HttpError } from '../errors';
import { promptIdSchema, safeWorkflowIdOfPrompt } from '../ids';
import { buildDecisionForm, decisionFromForm, formErrors, schemaOf, type DecisionForm, type Posted } from './decision-form';
import type { PagesContext } from './index';
import { sessionOf } from './session';
import { lateness } from './working-days';

/**
 * The decision form of one prompt (`/prompts/:promptId`), generated from its kind's schema
 * (api/pages/decision-form.ts). A posted decision is checked with that same schema, then
 * goes through `submitDecision`, the API's own path to the workflow Update `decide`, whose
 * validator has the last word: a prompt answered meanwhile (a second submit, another
 * manager) is "already answered", never a second decision.
 */
/** The referral id of a referral workflow's id (`referral-<id>`), else undefined. */
function referralIdOfWorkflow(workflowId: string): string | undefined {
  return workflowId.startsWith('referral-') ? workflowId.slice('referral-'.length) : undefined;
}

export function promptRoutes(pages: PagesContext): Router {
  const router = Router();
  const workflowIdOf = (req: Request) => safeWorkflowIdOfPrompt(req.params.promptId);

  router.get('/prompts/:promptId', ...pages.page('page.prompt', ['manager'], workflowIdOf), async (req, res) => {
    const prompt = await promptOf(pages, req);
    if (prompt.status !== 'open') return renderClosed(pages, res, prompt, 200);
    await renderForm(pages, res, prompt, buildDecisionForm(prompt.kind), 200);
  });

  router.post('/prompts/:promptId', ...pages.page('page.decide', ['manager'], workflowIdOf), ...pages.form, async (req, res) => {
    const prompt = await promptOf(pages, req);
    if (prompt.status !== 'open') return renderClosed(pages, res, prompt, 409);
    const posted = (req.body ?? {}) as Posted;
    const decision = decisionFromForm(prompt.kind, posted);
    const principal = principalOf(res);
    // The same schema the update's validator runs: errors named per field before anything is sent.
    const checked = schemaOf(prompt.kind).safeParse({ ...decision, promptId: prompt.promptId, decidedBy: principal.sub, decidedAt: pages.ctx.now().toISOString() });
    if (!checked.success) {
      return await renderForm(pages, res, prompt, buildDecisionForm(prompt.kind, posted, formErrors(prompt.kind, decision, checked.error.issues)), 422);
    }
    try {
      await submitDecision(pages.ctx, principal, prompt.promptId, decision);
    } catch (error) {
      if (error instanceof HttpError && error.status === 409) return renderClosed(pages, res, { ...prompt, status: 'answered' }, 409);
      if (error instanceof HttpError && error.status === 422) {
        // A rule only the case can check (e.g. a checklist item its record contradicts): said at the top, the form kept.
        const issues = (error.extra.issues as Array<{ path: string; message: string }> | undefined) ?? [{ path: '(body)', message: error.message }];
        const errors = new Map(issues.map((issue) => [issue.path === 'rationale' ? 'rationale' : 'decision', issue.message]));
        return await renderForm(pages, res, prompt, buildDecisionForm(prompt.kind, posted, errors), 422);
      }
      throw error;
    }
    sessionOf(req).flash = { kind: 'decision-recorded', promptId: prompt.promptId, decision: decision.decision };
    res.redirect(303, '/inbox');
  });

  return router;
}

type ShownPrompt = Prompt & { workflowId: string; childRefs?: string[] };

/** The prompt as its workflow holds it (open or not); 404 when the workflow has none by that id. */
async function promptOf(pages: PagesContext, req: Request): Promise<ShownPrompt> {
  const parsed = promptIdSchema.safeParse(req.params.promptId);
  if (!parsed.success) throw new HttpError(404, 'not-found', 'no such prompt');
  const workflowId = workflowIdOfPrompt(parsed.data) as string;
  let state: { prompts?: Prompt[]; childRefs?: string[] };
  try {
    state = (await pages.ctx.client.workflow.getHandle(workflowId).query(stateQuery)) as typeof state;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new HttpError(404, 'not-found', 'no such prompt');
    throw error;
  }
  const prompt = state.prompts?.find((candidate) => candidate.promptId === parsed.data);
  if (!prompt) throw new HttpError(404, 'not-found', 'no such prompt');
  return { ...prompt, workflowId, ...(state.childRefs ? { childRefs: state.childRefs } : {}) };
}

async function renderForm(pages: PagesContext, res: Response, prompt: ShownPrompt, form: DecisionForm, status: number): Promise<void> {
  // R-25: a referral's duty decision shows the child's earlier assessments and outcomes.
  const referralId = prompt.kind === 'duty-decision' && prompt.childRefs ? referralIdOfWorkflow(prompt.workflowId) : undefined;
  const earlier = referralId && prompt.childRefs ? await earlierInvolvement(pages.ctx.client, principalOf(res), referralId, prompt.childRefs) : undefined;
  pages.render(
    res,
    'prompt.njk',
    {
      title: `${form.errors.length ? 'Error: ' : ''}${promptKindTitles[prompt.kind] ?? prompt.kind}`,
      section: 'inbox',
      prompt: { ...prompt, lateness: prompt.status === 'open' ? lateness(prompt.dueBy, pages.ctx.now()) : undefined },
      kindTitle: promptKindTitles[prompt.kind] ?? prompt.kind,
      ruleTitle: ruleLines[prompt.rule]?.title ?? '',
      ruleLine: ruleLines[prompt.rule]?.line ?? '',
      form,
      earlier: earlier?.filter((child) => child.assessments.length > 0),
    },
    status,
  );
}

function renderClosed(pages: PagesContext, res: Response, prompt: ShownPrompt, status: number): void {
  const answered = prompt.status === 'answered';
  pages.render(
    res,
    'answered.njk',
    {
      title: answered ? 'This decision has already been answered' : 'This prompt no longer needs an answer',
      message: answered
        ? `Prompt ${prompt.promptId} was already answered${prompt.decision ? ` (‘${prompt.decision}’${prompt.answeredBy ? ` by ${prompt.answeredBy}` : ''})` : ''}.`
        : `Prompt ${prompt.promptId} was withdrawn: what it asked about has happened or no longer applies.`,
      workflowId: prompt.workflowId,
    },
    status,
  );
}
