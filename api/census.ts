/**
 * The Children in Need census return, out of the engine: which workflows belong to a
 * census year, their states read through their `state` queries, and the request's own
 * child identifiers joined to them (domain/cin-census/from-engine.ts). The identifiers
 * pass through this request only: never stored, logged, audited or sent to Temporal.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { buildWorkingCalendar } from '../activities/calendar';
import { censusPeriod, censusYearSchema } from '../domain/cin-census/codes';
import { censusChildrenFromEngine, suppliedChildSchema, type CensusFromEngine, type ReferralSource } from '../domain/cin-census/from-engine';
import type { CensusHeader } from '../domain/cin-census/census-xml';
import { childRefSchema, referralIdSchema } from '../domain/ids';
import { startOfLocalDay } from '../domain/working-days';
import type { AssessmentState } from '../workflows/assessment';
import { stateQuery } from '../workflows/messages';
import type { ReferralState } from '../workflows/referral';
import type { Section47State } from '../workflows/section47-enquiry';
import { HttpError } from './errors';
import { listAll, literal, type VisibleWorkflow } from './visibility';
import { workflowTypes } from './routes/assessments';
import { mapLimited } from '../common/map-limited';

const code = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "may hold only letters, digits, '-' and '_'");

/** The most children one request carries (a large English authority has about 15,000 in a year). */
export const CENSUS_MAX_CHILDREN = 50_000;
/** The most workflows of each type one census reads. */
export const CENSUS_MAX_WORKFLOWS = 200_000;
/** The request body can be large: about 300 bytes a child. */
export const CENSUS_BODY_LIMIT = '25mb';

/** The request: the census year and header, and per childRef what the case system holds. */
export const cinCensusRequestSchema = z
  .object({
    censusYear: censusYearSchema
      .refine((year) => year >= '2015-16' && year <= '2098-99', 'a census year from 2015-16 to 2098-99')
      .meta({ example: '2025-26', description: 'the census year, 1 April to 31 March (its reference date)' }),
    header: z
      .object({
        /** The DfE's three-digit local authority code. */
        laCode: z.string().regex(/^\d{3}$/, "the DfE's three-digit local authority code"),
        serialNo: z.string().regex(/^\d{1,6}$/, 'a number of at most 6 digits').default('1'),
      })
      .strict(),
    /** Narrow the return to one team, or the cases of one local authority (LocalAuthority on the referral). */
    team: code.optional(),
    localAuthority: code.optional(),
    children: z
      .record(childRefSchema, suppliedChildSchema)
      .refine((children) => Object.keys(children).length <= CENSUS_MAX_CHILDREN, `at most ${CENSUS_MAX_CHILDREN} children in one request`),
  })
  .strict();
export type CinCensusRequest = z.infer<typeof cinCensusRequestSchema>;

/** The request as JSON Schema (for the OpenAPI document), from the same zod schema. */
export function censusRequestJsonSchema(): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(cinCensusRequestSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return schema;
}


export const SOFTWARE_CODE = 'assessment-engine';
export const SOFTWARE_RELEASE = '0.1.0';

export interface CensusGathered {
  built: CensusFromEngine;
  header: CensusHeader;
  workflowsRead: number;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}

/**
 * Every workflow of the census year, within the caller's scope: those that ran in it
 * (running, or closed since it began), and the referrals
 * the case system names as episodes still open from an earlier year.
 */
async function gatherStates(client: Client, request: CinCensusRequest, scope: string[], bounds: { startUtc: string }) {
  // Not StartTime: a migrated case starts today with a referral received long ago. A
  // workflow closed before the year began had all its activity before then (the engine
  // refuses times in the future); the dates of the rest are judged from their states.
  const ranInYear = `(ExecutionStatus = 'Running' OR CloseTime >= ${literal(bounds.startUtc)})`;
  const list = async (query: string) => {
    const { workflows, truncated } = await listAll(client, query, CENSUS_MAX_WORKFLOWS);
    if (truncated) throw new HttpError(422, 'report-too-large', `more than ${CENSUS_MAX_WORKFLOWS} workflows match: narrow the return by team or localAuthority`);
    return workflows;
  };
  const ofType = (type: keyof typeof workflowTypes) => [`WorkflowType = ${literal(workflowTypes[type])}`, ...scope].join(' AND ');

  const referrals = new Map<string, VisibleWorkflow>();
  for (const workflow of await list(`${ofType('referral')} AND ${ranInYear}`)) referrals.set(workflow.workflowId, workflow);
  const named = [...new Set(Object.values(request.children).flatMap((child) => Object.keys(child.episodes ?? {})))].filter((id) => referralIdSchema.safeParse(id).success);
  for (const batch of chunks(named, 100)) {
    for (const workflow of await list(`${ofType('referral')} AND ReferralId IN (${batch.map(literal).join(', ')})`)) referrals.set(workflow.workflowId, workflow);
  }
  const referralIds = [...referrals.values()].map((workflow) => workflow.attributes.ReferralId).filter((id): id is string => typeof id === 'string');
  const enquiries: VisibleWorkflow[] = [];
  for (const batch of chunks(referralIds, 100)) {
    enquiries.push(...(await list(`${ofType('section-47-enquiry')} AND ReferralId IN (${batch.map(literal).join(', ')})`)));
  }

  // A census from part of the cases would mislead: a workflow whose state cannot be read fails the request.
  const unreadable: string[] = [];
  const read = async <S>(workflowId: string): Promise<S | undefined> => {
    try {
      return (await client.workflow.getHandle(workflowId).query(stateQuery)) as S;
    } catch (error) {
      unreadable.push(error instanceof WorkflowNotFoundError ? `${workflowId} (not found: past the namespace's retention?)` : workflowId);
      return undefined;
    }
  };
  const referralStates = (await mapLimited([...referrals.keys()], 16, (id) => read<ReferralState>(id))).filter((state): state is ReferralState => state !== undefined);
  const assessmentIds = referralStates.flatMap((state) => state.assessments.map((assessment) => assessment.workflowId));
  const assessmentStates = (await mapLimited(assessmentIds, 16, (id) => read<AssessmentState>(id))).filter((state): state is AssessmentState => state !== undefined);
  const enquiryStates = (await mapLimited(enquiries.map((workflow) => workflow.workflowId), 16, (id) => read<Section47State>(id))).filter(
    (state): state is Section47State => state !== undefined,
  );
  if (unreadable.length > 0) {
    throw new HttpError(503, 'census-incomplete', `${unreadable.length} workflows could not be read; no return is made from part of the cases: retry, or ask operations`, {
      unreadableWorkflowIds: unreadable.slice(0, 100),
    });
  }
  return { referralStates, assessmentStates, enquiryStates, workflowsRead: referralStates.length + assessmentStates.length + enquiryStates.length };
}

/** The census return's children from the engine's states and the request's identifiers. */
export async function gatherCensus(client: Client, request: CinCensusRequest, scope: string[], now: Date): Promise<CensusGathered> {
  const period = censusPeriod(request.censusYear);
  const endYear = Number(period.collectionYear);
  const calendar = buildWorkingCalendar({ region: 'england-and-wales', timeZone: 'Europe/London', fromYear: endYear - 3, toYear: endYear + 1 });
  const bounds = { startUtc: new Date(startOfLocalDay(calendar, period.start)).toISOString() };
  const { referralStates, assessmentStates, enquiryStates, workflowsRead } = await gatherStates(client, request, scope, bounds);

  const referrals: ReferralSource[] = referralStates.map((referral) => {
    const childRefs = referral.childRefs ?? referral.assessments.map((assessment) => assessment.childRef);
    const recorded = Object.fromEntries(
      childRefs.flatMap((childRef) => {
        const episode = request.children[childRef]?.episodes?.[referral.referralId];
        return episode ? [[childRef, episode]] : [];
      }),
    );
    return {
      referral,
      referrerType: referral.referrerType,
      referralSourceCode: referral.referralSourceCode,
      childRefs,
      assessments: assessmentStates.filter((assessment) => assessment.referralId === referral.referralId),
      section47s: enquiryStates.filter((enquiry) => enquiry.referralId === referral.referralId),
      recorded,
    };
  });
  const built = censusChildrenFromEngine({ censusYear: request.censusYear, calendar, referrals, children: request.children });
  const londonNow = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/London', dateStyle: 'short', timeStyle: 'medium' }).format(now).replace(' ', 'T');
  const header: CensusHeader = {
    collectionYear: period.collectionYear,
    referenceDate: period.referenceDate,
    sourceLevel: 'L',
    laCode: request.header.laCode,
    softwareCode: SOFTWARE_CODE,
    release: SOFTWARE_RELEASE,
    serialNo: request.header.serialNo,
    dateTime: londonNow,
  };
  return { built, header, workflowsRead };
}

/** The summary that goes with a return: how many children, who was left out and why, what is missing. */
export function censusSummary(gathered: CensusGathered) {
  const byReason: Record<string, number> = {};
  for (const entry of gathered.built.leftOut) byReason[entry.reason] = (byReason[entry.reason] ?? 0) + 1;
  return {
    children: gathered.built.children.length,
    leftOut: gathered.built.leftOut,
    leftOutByReason: byReason,
    warnings: gathered.built.warnings,
    workflowsRead: gathered.workflowsRead,
  };
}
