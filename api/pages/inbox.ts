import { Router } from 'express';
import { z } from 'zod';
import { promptKinds } from '../../domain/prompts';
import { promptKindTitles, ruleLines } from '../../domain/rule-lines';
import { auditTarget } from '../audit';
import { principalOf } from '../auth';
import { HttpError } from '../errors';
import { listOpenPrompts } from '../prompt-list';
import type { PagesContext } from './index';
import { sessionOf } from './session';
import { lateness } from './working-days';

/** Prompts per inbox page. */
export const INBOX_PAGE_SIZE = 25;

const inboxQuerySchema = z
  .object({
    kind: z.union([z.literal(''), z.enum(promptKinds as [string, ...string[]])]).optional(),
    page: z.string().min(1).max(2000).optional(),
  })
  .strict();

/**
 * The manager inbox: the open prompts of my teams, oldest due first, a page at a time,
 * through the same listing as `GET /v1/prompts` (visibility, then a query to only this
 * page's workflows). Each row: what is asked, the rule, the case (opaque references),
 * raised and due, how late in working days, the allowed answers.
 */
export function inboxRoutes(pages: PagesContext): Router {
  const router = Router();
  router.get('/inbox', ...pages.page('page.inbox', ['manager']), async (req, res) => {
    const query = inboxQuerySchema.safeParse(req.query);
    if (!query.success) throw new HttpError(400, 'invalid-request', 'the filter is not one this page offers');
    const kind = query.data.kind || undefined;
    const list = await listOpenPrompts(pages.ctx, principalOf(res), { pageSize: INBOX_PAGE_SIZE, ...(kind ? { kind } : {}), ...(query.data.page ? { nextPageToken: query.data.page } : {}) });
    auditTarget(res, { workflowIds: [...new Set(list.prompts.map((prompt) => prompt.workflowId))] });
    const now = pages.ctx.now();
    const session = sessionOf(req);
    const flash = session.flash;
    delete session.flash;
    const params = (extra: Record<string, string>) => new URLSearchParams({ ...(kind ? { kind } : {}), ...extra }).toString();
    pages.render(res, 'inbox.njk', {
      title: 'Inbox',
      section: 'inbox',
      flash,
      kind,
      kinds: promptKinds.map((value) => ({ value, text: promptKindTitles[value] ?? value, selected: value === kind })),
      rows: list.prompts.map((prompt) => ({
        ...prompt,
        title: promptKindTitles[prompt.kind] ?? prompt.kind,
        ruleTitle: ruleLines[prompt.rule]?.title ?? '',
        ruleLine: ruleLines[prompt.rule]?.line ?? '',
        lateness: lateness(prompt.dueBy, now),
      })),
      totalOpen: list.totalOpen,
      firstPage: query.data.page ? `/inbox${kind ? `?${params({})}` : ''}` : undefined,
      nextPage: list.nextPageToken ? `/inbox?${params({ page: list.nextPageToken })}` : undefined,
      unreadable: list.unreadableWorkflowIds ?? [],
      truncated: list.truncated === true,
    });
  });
  return router;
}
