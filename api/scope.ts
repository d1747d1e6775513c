import type { NextFunction, Request, Response } from 'express';
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { stateQuery } from '../workflows/messages';
import { TeamKey } from '../workflows/search-attributes';
import { principalOf, type Principal } from './auth';
import { HttpError } from './errors';
import { literal } from './visibility';

/**
 * Least privilege on every case: one mechanism for reads, lists, reports, histories,
 * events, decisions and the codec. A case is in a caller's scope by the workflow's own
 * `Team` attribute (never by what the request says): every team only with the explicit
 * `all_teams` claim. A case out of scope answers exactly as one that does not exist (404).
 * Social workers reach their teams' cases, or, where the council configures `caseload`,
 * only the assessments allocated to them (with those assessments' strategy discussions
 * and enquiries) and their teams' referrals, which have no allocated worker yet.
 */
export type SocialWorkerScope = 'team' | 'caseload';

export interface ScopeSettings {
  socialWorkers: SocialWorkerScope;
}

/** What the scope check learnt about the case (routes reuse it). */
export interface CaseInScope {
  workflowId: string;
  team?: string;
}

const notFound = (workflowId: string) => new HttpError(404, 'not-found', `no workflow ${workflowId}`);

export function teamInScope(principal: Principal, team: string | undefined): boolean {
  if (principal.scope.allTeams) return true;
  return team !== undefined && principal.scope.teams.includes(team);
}

/** Only a caller who is a social worker and nothing more is held to a caseload. */
function heldToCaseload(principal: Principal, settings: ScopeSettings): boolean {
  return settings.socialWorkers === 'caseload' && principal.roles.every((role) => role === 'social_worker');
}

async function describeOr404(client: Client, workflowId: string): Promise<WorkflowExecutionDescription> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound(workflowId);
    throw error;
  }
}

/** The assessment a workflow belongs to: itself, or the parent (strategy discussion) or grandparent (enquiry). */
async function owningAssessment(client: Client, description: WorkflowExecutionDescription): Promise<string | undefined> {
  let current = description;
  for (let depth = 0; depth < 3; depth += 1) {
    if (current.type === 'assessmentWorkflow') return current.workflowId;
    const parent = current.parentExecution?.workflowId;
    if (!parent) return undefined;
    current = await describeOr404(client, parent);
  }
  return undefined;
}

/** 404 unless the workflow exists and is within the caller's scope. */
export async function assertCaseInScope(client: Client, principal: Principal, workflowId: string, settings: ScopeSettings): Promise<CaseInScope> {
  const description = await describeOr404(client, workflowId);
  const team = description.typedSearchAttributes.get(TeamKey);
  if (!teamInScope(principal, team)) throw notFound(workflowId);
  if (heldToCaseload(principal, settings) && description.type !== 'referralWorkflow') {
    const assessmentId = await owningAssessment(client, description);
    if (!assessmentId) throw notFound(workflowId);
    const state = (await client.workflow.getHandle(assessmentId).query(stateQuery)) as { socialWorkerId?: string };
    if (state.socialWorkerId !== principal.sub) throw notFound(workflowId);
  }
  return { workflowId, ...(team ? { team } : {}) };
}

/**
 * Middleware: the case named by the request must be in scope. A request whose id does not
 * parse passes on to the route, which answers 400 naming the field.
 */
export function requireCaseInScope(client: Client, settings: ScopeSettings, workflowIdOf: (req: Request) => string | undefined) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const workflowId = workflowIdOf(req);
    if (workflowId === undefined) return next();
    try {
      res.locals.caseInScope = await assertCaseInScope(client, principalOf(res), workflowId, settings);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * The visibility clause that keeps a listing or report to the caller's scope, with the team
 * asked for (403 if it lies outside the scope). Undefined: every team.
 */
export function scopeClause(principal: Principal, askedTeam?: string): string | undefined {
  if (askedTeam !== undefined) {
    if (!teamInScope(principal, askedTeam)) throw new HttpError(403, 'forbidden', `team ${askedTeam} is outside your token's scope`);
    return `Team = ${literal(askedTeam)}`;
  }
  if (principal.scope.allTeams) return undefined;
  if (principal.scope.teams.length === 0) throw new HttpError(403, 'forbidden', 'your token grants no team (claims teams or all_teams)');
  return `Team IN (${principal.scope.teams.map(literal).join(', ')})`;
}

/** A team for a new case must be in scope (403: nothing exists yet to hide). */
export function assertTeamInScope(principal: Principal, team: string | undefined): void {
  if (teamInScope(principal, team)) return;
  throw new HttpError(403, 'forbidden', team ? `team ${team} is outside your token's scope` : 'a case without a team needs a token with all_teams');
}

/** Every team, explicitly (the codec decrypts payloads it cannot attribute to a case). */
export function requireAllTeams(_req: Request, res: Response, next: NextFunction): void {
  if (principalOf(res).scope.allTeams) return next();
  next(new HttpError(403, 'forbidden', 'this needs a token with all_teams'));
}
