/**
 * From the engine's state (what the workflows' `state` queries answer) and the child
 * identifiers the case system supplies for one request, to the children of a census
 * return, with the children left out and why. Pure: no clock, no I/O; the identifiers and
 * characteristics pass through and are kept nowhere.
 *
 * Each referral of a child is one episode (CINdetails). Dates are the local dates (the
 * case's working calendar) of the engine's instants, as at the reference date: anything
 * that happened after it is treated as not yet happened.
 *
 * The primary need code and the assessment factors are chosen at sign-off and held by the
 * assessment (its `census` items); for assessments signed off before the engine asked for
 * them, the case system may supply them per episode (see `EpisodeRecorded`), and the
 * engine's own win. The closure of an episode after its assessment (a child in need plan
 * ended, a child protection plan ended) happens in the case system, which supplies it.
 * Where the census needs an item and it is missing, the child is still returned and a
 * warning says what is missing (the validator would flag it too).
 */
import { z } from 'zod';
import type { ReferralInput } from '../referral';
import { assessmentStartedAt } from './measures';
import { addWorkingDays, localDate, startOfLocalDay, type WorkingCalendar } from '../working-days';
import type { AssessmentState } from '../../workflows/assessment';
import type { ReferralState } from '../../workflows/referral';
import type { Section47State } from '../../workflows/section47-enquiry';
import {
  assessmentFactorsSchema,
  censusPeriod,
  disabilitySchema,
  ethnicitySchema,
  primaryNeedCodeSchema,
  reasonForClosureSchema,
  referralSourceFor,
  sexSchema,
  upnUnknownSchema,
} from './codes';
import type { CensusAssessment, CensusChild, CensusSection47, CinDetails } from './census-xml';

const date = z.iso.date();

/** UPN: a check letter, the LA's three digits, eight digits, a last digit or letter (not I, O, S): rules 1510-1550. */
export const UPN_PATTERN = /^[A-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]$/;
/** LAchildID: letters and digits only, at most 20 (rules 1570, 1580). */
export const LA_CHILD_ID_PATTERN = /^[A-Za-z0-9]{1,20}$/;

/** Items of an episode the case system supplies (see the file's comment): the engine's own win. */
export const episodeRecordedSchema = z
  .object({
    primaryNeedCode: primaryNeedCodeSchema.optional(),
    /** The factors chosen at sign-off of the episode's assessment. */
    assessmentFactors: assessmentFactorsSchema.optional(),
    /** The episode's closure, where it did not close at the assessment's sign-off. */
    closure: z.object({ date, reason: reasonForClosureSchema }).strict().optional(),
  })
  .strict();
export type EpisodeRecorded = z.infer<typeof episodeRecordedSchema>;

/**
 * What the case system supplies per child, for one request only (never stored, never
 * logged): the identifiers and characteristics the engine does not hold.
 */
export const suppliedChildSchema = z
  .object({
    /** Defaults to the childRef where that is a valid LAchildID. */
    laChildId: z.string().regex(LA_CHILD_ID_PATTERN, 'at most 20 letters and digits').optional(),
    upn: z.string().regex(UPN_PATTERN, 'a 13-character UPN').optional(),
    formerUpn: z.string().regex(UPN_PATTERN, 'a 13-character UPN').optional(),
    upnUnknown: upnUnknownSchema.optional(),
    personBirthDate: date.optional(),
    expectedPersonBirthDate: date.optional(),
    sex: sexSchema,
    personDeathDate: date.optional(),
    ethnicity: ethnicitySchema,
    disabilities: z.array(disabilitySchema).min(1).max(13),
    /**
     * Per referralId, what the case system holds of that episode: its closure after the
     * assessment, and the codes of assessments signed off before the engine asked for
     * them. Naming a referral here also brings an episode still open from an earlier year
     * into the return, although its workflows closed before this census year.
     */
    episodes: z.record(z.string().min(1).max(64), episodeRecordedSchema).optional(),
  })
  .strict()
  .refine((child) => (child.upn === undefined) !== (child.upnUnknown === undefined), { message: 'give the UPN or the reason it is unknown, not both', path: ['upnUnknown'] })
  .refine((child) => (child.personBirthDate === undefined) !== (child.expectedPersonBirthDate === undefined), {
    message: 'give the birth date or the expected birth date, one of them (rule 8525Q)',
    path: ['expectedPersonBirthDate'],
  })
  .refine((child) => child.personBirthDate !== undefined || child.sex === 'U', { message: 'an unborn child’s sex is U (rule 8750)', path: ['sex'] })
  .refine((child) => !(child.disabilities.includes('NONE') && child.disabilities.length > 1), { message: 'NONE stands alone (rule 8790)', path: ['disabilities'] })
  .refine((child) => new Set(child.disabilities).size === child.disabilities.length, { message: 'each disability once (rule 8794)', path: ['disabilities'] });
export type SuppliedChild = z.infer<typeof suppliedChildSchema>;


/** One referral as the engine holds it, with the two items its state does not carry. */
export interface ReferralSource {
  referral: Pick<ReferralState, 'referralId' | 'receivedAt' | 'stage' | 'dutyDecision' | 'record'>;
  /** From the referral's input (its state does not hold them). */
  referrerType?: ReferralInput['referrerType'];
  /** The DfE ReferralSource code, where the case system knows it: it wins over referrerType. */
  referralSourceCode?: string;
  /** The referral's children (its input's `children`): an NFA referral has no assessments to name them. */
  childRefs: string[];
  /** The states of the referral's assessments, one per child. */
  assessments: Array<Pick<AssessmentState, 'childRef' | 'stage' | 'allocatedAt' | 'completedAt' | 'outcome'> & { census?: Pick<AssessmentState['census'], 'primaryNeedCode' | 'assessmentFactors'> }>;
  /** The states of the referral's section 47 enquiries (every strategy discussion's). */
  section47s: Array<Pick<Section47State, 'childRef' | 'sequence' | 'startedAt' | 'stage' | 'outcome' | 'outcomeDecidedAt' | 'conferenceHeldAt' | 'record'>>;
  /** Per childRef. */
  recorded?: Record<string, EpisodeRecorded>;
}

export interface CensusFromEngineInput {
  censusYear: string;
  /** The working calendar of the cases (bank holidays of the years of the census). */
  calendar: WorkingCalendar;
  referrals: ReferralSource[];
  /** Per childRef, supplied for this request only. */
  children: Record<string, SuppliedChild>;
  /** Working days from the section 47 start to the ICPC target (Working Together: 15). */
  initialConferenceWorkingDays?: number;
}

export type LeftOutReason = 'no identifiers supplied' | 'no activity in the census year' | 'childRef is not a valid LAchildID and none was supplied';

export interface CensusWarning {
  childRef: string;
  referralId: string;
  item: 'PrimaryNeedCode' | 'AssessmentFactors';
  message: string;
}

export interface CensusFromEngine {
  children: Array<{ childRef: string; child: CensusChild }>;
  leftOut: Array<{ childRef: string; reason: LeftOutReason }>;
  warnings: CensusWarning[];
}

/** Duty decisions that close a referral without an assessment: ReferralNFA (workflows/referral.ts). */
const NFA_DUTY_DECISIONS = new Set(['no-further-action', 'information-and-advice', 'early-help']);
/** Sign-off outcomes that close the episode, and the reason (RC8, RC9: only without a section 47, rule 2990). */
const CLOSING_OUTCOMES: Record<string, 'RC8' | 'RC9'> = { 'no-further-action': 'RC8', 'information-and-advice': 'RC8', 'early-help': 'RC9' };
const ICPC_NOT_REQUIRED = new Set(['not-substantiated', 'child-in-need-plan']);

export function censusChildrenFromEngine(input: CensusFromEngineInput): CensusFromEngine {
  const period = censusPeriod(input.censusYear);
  const { calendar } = input;
  const workingDays = input.initialConferenceWorkingDays ?? 15;
  const onOrBeforeReference = (instant: string | undefined): string | undefined => {
    if (instant === undefined) return undefined;
    const day = localDate(calendar, Date.parse(instant));
    return day <= period.referenceDate ? day : undefined;
  };
  const decidedOn = (record: Array<{ source: string; type: string; at: string; status: string }>, decision: string | undefined) =>
    decision === undefined ? undefined : record.find((entry) => entry.source === 'decision' && entry.type === decision && entry.status === 'applied')?.at;

  const episodesByChild = new Map<string, Array<{ referralId: string; episode: CinDetails }>>();
  const warnings: CensusWarning[] = [];

  for (const source of input.referrals) {
    const { referral } = source;
    const referralDate = localDate(calendar, Date.parse(referral.receivedAt));
    if (referralDate > period.referenceDate) continue;
    const referralSource = referralSourceFor(source.referrerType, source.referralSourceCode);
    const dutyDecisionDate = onOrBeforeReference(referral.dutyDecision?.decidedAt);
    const nfa = dutyDecisionDate !== undefined && NFA_DUTY_DECISIONS.has(referral.dutyDecision?.decision ?? '');

    for (const childRef of source.childRefs) {
      const supplied = source.recorded?.[childRef] ?? {};
      const engineItems = source.assessments.find((state) => state.childRef === childRef)?.census ?? {};
      // What the engine recorded at sign-off wins over what the case system supplies for the episode.
      const recorded: EpisodeRecorded = {
        ...supplied,
        ...(engineItems.primaryNeedCode !== undefined ? { primaryNeedCode: engineItems.primaryNeedCode } : {}),
        ...(engineItems.assessmentFactors !== undefined ? { assessmentFactors: engineItems.assessmentFactors } : {}),
      };
      const episode: CinDetails = {
        referralDate,
        referralSource,
        referralNfa: nfa,
        assessments: [],
        cinPlanDates: [],
        section47s: [],
        childProtectionPlans: [],
      };
      let signOffClosure: { date: string; reason: 'RC8' | 'RC9' } | undefined;

      if (!nfa) {
        episode.primaryNeedCode = recorded.primaryNeedCode;
        const assessment = source.assessments.find((state) => state.childRef === childRef);
        const startDate = onOrBeforeReference(assessmentStartedAt({ dutyDecidedAt: dutyDecisionDate === undefined ? undefined : referral.dutyDecision?.decidedAt, allocatedAt: assessment?.allocatedAt }));
        if (assessment && startDate !== undefined) {
          const authorisationDate = onOrBeforeReference(assessment.completedAt);
          // An assessment signed off before the census year belongs to an earlier return (rule 8696).
          if (authorisationDate === undefined || authorisationDate >= period.start) {
            const censusAssessment: CensusAssessment = { actualStartDate: startDate, authorisationDate };
            if (authorisationDate !== undefined) {
              censusAssessment.factors = recorded.assessmentFactors;
              if (!recorded.assessmentFactors) {
                warnings.push({ childRef, referralId: referral.referralId, item: 'AssessmentFactors', message: 'the assessment was signed off but its factors were not supplied (rule 8897Q)' });
              }
            }
            episode.assessments.push(censusAssessment);
          }
          const closing = authorisationDate !== undefined && assessment.outcome !== undefined ? CLOSING_OUTCOMES[assessment.outcome] : undefined;
          if (closing && authorisationDate !== undefined) signOffClosure = { date: authorisationDate, reason: closing };
        }
        for (const s47 of source.section47s.filter((state) => state.childRef === childRef).sort((a, b) => a.sequence - b.sequence)) {
          const section47 = toSection47(s47);
          if (section47) episode.section47s.push(section47);
        }
        if (episode.primaryNeedCode === undefined) {
          warnings.push({ childRef, referralId: referral.referralId, item: 'PrimaryNeedCode', message: 'the episode went on to further action but its primary need was not supplied (rule 8610)' });
        }
      }

      const closure = recorded.closure && recorded.closure.date <= period.referenceDate ? recorded.closure : signOffClosure;
      if (closure) {
        episode.closureDate = closure.date;
        // RC8 and RC9 mean "closed after assessment" with nothing further (rule 2990): after a section 47, services ceased (RC7).
        episode.reasonForClosure = episode.section47s.length > 0 && (closure.reason === 'RC8' || closure.reason === 'RC9') ? 'RC7' : closure.reason;
      }

      const active = nfa ? referralDate >= period.start : episode.closureDate === undefined || episode.closureDate >= period.start;
      if (!active) continue;
      const episodes = episodesByChild.get(childRef) ?? [];
      episodes.push({ referralId: referral.referralId, episode });
      episodesByChild.set(childRef, episodes);
    }
  }

  function toSection47(s47: ReferralSource['section47s'][number]): CensusSection47 | undefined {
    const actualStartDate = onOrBeforeReference(s47.startedAt);
    if (actualStartDate === undefined) return undefined;
    const dateOfInitialCpc = onOrBeforeReference(s47.conferenceHeldAt);
    // The outcome counts once decided by the reference date (the record dates the decision).
    // The decision's own date (a migrated case back-dates it); enquiries from before the state held it, the record's.
    const outcomeDecided = s47.outcome !== undefined && onOrBeforeReference(s47.outcomeDecidedAt ?? decidedOn(s47.record, s47.outcome) ?? s47.startedAt) !== undefined;
    const icpcNotRequired = outcomeDecided && s47.outcome !== undefined && ICPC_NOT_REQUIRED.has(s47.outcome);
    // An enquiry finished before the census year belongs to an earlier return (rules 8715, 8740).
    if (dateOfInitialCpc !== undefined && dateOfInitialCpc < period.start) return undefined;
    if (icpcNotRequired && actualStartDate < period.start) return undefined;
    return { actualStartDate, initialCpcTarget: initialCpcTarget(actualStartDate), dateOfInitialCpc, icpcNotRequired };
  }

  /** 15 working days after the start, the start day not counted (the validator's rule 8675Q counts the same way). */
  function initialCpcTarget(startDate: string): string {
    const midday = startOfLocalDay(calendar, startDate) + 12 * 3_600_000;
    return localDate(calendar, addWorkingDays(calendar, midday, workingDays));
  }

  const result: CensusFromEngine = { children: [], leftOut: [], warnings: [] };
  const childRefs = new Set(input.referrals.flatMap((source) => source.childRefs));
  for (const childRef of [...childRefs].sort()) {
    const episodes = episodesByChild.get(childRef);
    if (!episodes || episodes.length === 0) {
      result.leftOut.push({ childRef, reason: 'no activity in the census year' });
      continue;
    }
    const supplied = input.children[childRef];
    if (!supplied) {
      result.leftOut.push({ childRef, reason: 'no identifiers supplied' });
      continue;
    }
    const laChildId = supplied.laChildId ?? (LA_CHILD_ID_PATTERN.test(childRef) ? childRef : undefined);
    if (laChildId === undefined) {
      result.leftOut.push({ childRef, reason: 'childRef is not a valid LAchildID and none was supplied' });
      continue;
    }
    const { ethnicity, disabilities, laChildId: _laChildId, episodes: _episodes, ...identifiers } = supplied;
    result.children.push({
      childRef,
      child: {
        identifiers: { laChildId, ...identifiers },
        characteristics: { ethnicity, disabilities },
        cinDetails: episodes.map((entry) => entry.episode).sort((a, b) => a.referralDate.localeCompare(b.referralDate)),
      },
    });
    result.warnings.push(...warnings.filter((warning) => warning.childRef === childRef));
  }
  return result;
}

