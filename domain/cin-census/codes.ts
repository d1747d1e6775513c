/**
 * The code lists of the Children in Need census, as data, one set per census year, so that
 * next year's lists are added beside this year's and a return is always built against the
 * lists of its own year.
 *
 * The codes are those the DfE's "Children in need census 2025 to 2026" guide sets and the
 * community validator (csc-validator-be-cin, ruleset cin2025_26) checks: ReferralSource
 * (rule 8866), PrimaryNeedCode (8650), ReasonForClosure (8640), AssessmentFactors (8897Q,
 * with 18A and 19A withdrawn in favour of 18B/18C and 19B/19C: 8945Q, 8950Q; 21 alone:
 * 8869), Sex (4180, 8750), Ethnicity (4220), Disability (8540, 8790) and UPNunknown
 * (8770Q, 8772). The descriptions are ours, after the guide's wording.
 */
import { z } from 'zod';
import type { referrerTypes } from '../referral';

export interface CodeEntry<C extends string = string> {
  code: C;
  description: string;
  /** Still valid but no longer to be used (the validator queries it). */
  withdrawn?: { useInstead: string[] };
}

const entries = <const C extends string>(list: ReadonlyArray<readonly [C, string]>): Array<CodeEntry<C>> =>
  list.map(([code, description]) => ({ code, description }));

const referralSource2025 = entries([
  ['1A', 'Individual: family member, relative or carer'],
  ['1B', 'Individual: acquaintance (including neighbours and child minders)'],
  ['1C', 'Individual: self'],
  ['1D', 'Individual: other (including strangers and MPs)'],
  ['2A', 'Schools'],
  ['2B', 'Education services'],
  ['3A', 'Health services: GP'],
  ['3B', 'Health services: health visitor'],
  ['3C', 'Health services: school nurse'],
  ['3D', 'Health services: other primary health services'],
  ['3E', 'Health services: A&E'],
  ['3F', 'Health services: other'],
  ['4', 'Housing (local authority housing or housing association)'],
  ['5A', 'Local authority services: social care (e.g. adult social care)'],
  ['5B', 'Local authority services: other internal department'],
  ['5C', 'Local authority services: external (e.g. another local authority)'],
  ['5D', 'Early help'],
  ['6', 'Police'],
  ['7', 'Other legal agency (courts, probation, immigration, CAFCASS, prison)'],
  ['8', 'Other (e.g. faith groups, children’s centres)'],
  ['9', 'Anonymous'],
  ['10', 'Unknown'],
] as const);

const primaryNeed2025 = entries([
  ['N0', 'Not stated'],
  ['N1', 'Abuse or neglect'],
  ['N2', 'Child’s disability or illness'],
  ['N3', 'Parental disability or illness'],
  ['N4', 'Family in acute stress'],
  ['N5', 'Family dysfunction'],
  ['N6', 'Socially unacceptable behaviour'],
  ['N7', 'Low income'],
  ['N8', 'Absent parenting'],
  ['N9', 'Cases other than children in need'],
] as const);

const reasonForClosure2025 = entries([
  ['RC1', 'Adopted'],
  ['RC2', 'Died'],
  ['RC3', 'Child arrangements order'],
  ['RC4', 'Special guardianship order'],
  ['RC5', 'Transferred to services of another local authority'],
  ['RC6', 'Transferred to adult social care services'],
  ['RC7', 'Services ceased for any other reason, including the child no longer in need'],
  ['RC8', 'Case closed after assessment, no further action'],
  ['RC9', 'Case closed after assessment, referred to early help'],
] as const);

const who = (subject: string, prefix: string) =>
  [
    [`${prefix}A`, `${subject}: concerns about the child`],
    [`${prefix}B`, `${subject}: concerns about the child’s parent or carer`],
    [`${prefix}C`, `${subject}: concerns about another person living in the household`],
  ] as const;

const assessmentFactors2025: Array<CodeEntry> = [
  ...entries(who('Alcohol misuse', '1')),
  ...entries(who('Drug misuse', '2')),
  ...entries(who('Domestic abuse', '3')),
  ...entries(who('Mental health', '4')),
  ...entries(who('Learning disability', '5')),
  ...entries(who('Physical disability or illness', '6')),
  ...entries([
    ['7A', 'Young carer'],
    ['8B', 'Privately fostered: overseas child who intends to return'],
    ['8C', 'Privately fostered: overseas child who intends to stay'],
    ['8D', 'Privately fostered: UK child in education'],
    ['8E', 'Privately fostered: UK child making alternative arrangements'],
    ['8F', 'Privately fostered: other'],
    ['9A', 'Unaccompanied asylum seeking child'],
    ['10A', 'Missing'],
    ['11A', 'Child sexual exploitation'],
    ['12A', 'Trafficking'],
    ['13A', 'Gangs'],
    ['14A', 'Socially unacceptable behaviour'],
    ['15A', 'Self-harm'],
    ['16A', 'Neglect'],
    ['17A', 'Emotional abuse'],
    ['18A', 'Physical abuse'],
    ['18B', 'Physical abuse: by an adult'],
    ['18C', 'Physical abuse: by another child'],
    ['19A', 'Sexual abuse'],
    ['19B', 'Sexual abuse: by an adult'],
    ['19C', 'Sexual abuse: by another child'],
    ['20', 'Other'],
    ['21', 'No factors identified'],
    ['22A', 'Female genital mutilation'],
    ['23A', 'Abuse linked to faith or belief'],
    ['24A', 'Child criminal exploitation'],
  ] as const),
].map((entry) =>
  entry.code === '18A' ? { ...entry, withdrawn: { useInstead: ['18B', '18C'] } } : entry.code === '19A' ? { ...entry, withdrawn: { useInstead: ['19B', '19C'] } } : entry,
);

const sex2025 = entries([
  ['M', 'Male'],
  ['F', 'Female'],
  ['U', 'Not known (and every unborn child)'],
] as const);

const ethnicity2025 = entries([
  ['WBRI', 'White: British'],
  ['WIRI', 'White: Irish'],
  ['WIRT', 'White: Traveller of Irish heritage'],
  ['WROM', 'White: Gypsy or Roma'],
  ['WOTH', 'White: any other White background'],
  ['MWBC', 'Mixed: White and Black Caribbean'],
  ['MWBA', 'Mixed: White and Black African'],
  ['MWAS', 'Mixed: White and Asian'],
  ['MOTH', 'Mixed: any other mixed background'],
  ['AIND', 'Asian or Asian British: Indian'],
  ['APKN', 'Asian or Asian British: Pakistani'],
  ['ABAN', 'Asian or Asian British: Bangladeshi'],
  ['AOTH', 'Asian or Asian British: any other Asian background'],
  ['BCRB', 'Black or Black British: Caribbean'],
  ['BAFR', 'Black or Black British: African'],
  ['BOTH', 'Black or Black British: any other Black background'],
  ['CHNE', 'Chinese'],
  ['OOTH', 'Any other ethnic group'],
  ['REFU', 'Refused'],
  ['NOBT', 'Information not yet obtained'],
] as const);

const disability2025 = entries([
  ['NONE', 'No disability'],
  ['MOB', 'Mobility'],
  ['HAND', 'Hand function'],
  ['PC', 'Personal care'],
  ['INC', 'Incontinence'],
  ['COMM', 'Communication'],
  ['LD', 'Learning'],
  ['HEAR', 'Hearing'],
  ['VIS', 'Vision'],
  ['BEH', 'Behaviour'],
  ['CON', 'Consciousness'],
  ['AUT', 'Diagnosed with autism or Asperger syndrome'],
  ['DDA', 'Other disability under the Equality Act'],
] as const);

const upnUnknown2025 = entries([
  ['UN1', 'Child is under 6 and not yet in school'],
  ['UN2', 'Child has never attended a state school in England'],
  ['UN3', 'Child is educated outside England'],
  ['UN4', 'Child newly arrived in the UK, not yet in school'],
  ['UN5', 'Sources collating UPNs hold incomplete data'],
  ['UN6', 'Child is unborn'],
  ['UN7', 'Referral with no further action'],
] as const);

export const CENSUS_YEARS = ['2025-26'] as const;
export type CensusYear = `${number}-${number}`;

export interface CensusCodeLists {
  referralSource: CodeEntry[];
  primaryNeed: CodeEntry[];
  reasonForClosure: CodeEntry[];
  assessmentFactors: CodeEntry[];
  sex: CodeEntry[];
  ethnicity: CodeEntry[];
  disability: CodeEntry[];
  upnUnknown: CodeEntry[];
}

/** The lists of each census year; a new year's lists are added here, beside the others. */
export const CENSUS_CODE_LISTS: Record<(typeof CENSUS_YEARS)[number], CensusCodeLists> = {
  '2025-26': {
    referralSource: referralSource2025,
    primaryNeed: primaryNeed2025,
    reasonForClosure: reasonForClosure2025,
    assessmentFactors: assessmentFactors2025,
    sex: sex2025,
    ethnicity: ethnicity2025,
    disability: disability2025,
    upnUnknown: upnUnknown2025,
  },
};

export const censusYearSchema = z
  .string()
  .regex(/^\d{4}-\d{2}$/, 'a census year, e.g. 2025-26')
  .refine((year) => (Number(year.slice(0, 4)) + 1) % 100 === Number(year.slice(5)), 'the second year follows the first, e.g. 2025-26');

/** The census year (e.g. '2025-26') whose reference date is 31 March of `endYear`. */
export function censusYearEnding(endYear: number): string {
  return `${endYear - 1}-${String(endYear % 100).padStart(2, '0')}`;
}

/** The census period: 1 April to the reference date, 31 March (what rule 100 requires). */
export function censusPeriod(censusYear: string): { start: string; referenceDate: string; collectionYear: string } {
  const year = censusYearSchema.parse(censusYear);
  const first = Number(year.slice(0, 4));
  return { start: `${first}-04-01`, referenceDate: `${first + 1}-03-31`, collectionYear: String(first + 1) };
}

/**
 * The lists that apply to a census year: its own, or (until the DfE changes a list and it
 * is added above) the newest earlier year's, said in `listsOf`. A year before the first
 * list is refused.
 */
export function codeListsFor(censusYear: string): { listsOf: (typeof CENSUS_YEARS)[number]; lists: CensusCodeLists } {
  censusYearSchema.parse(censusYear);
  const known = [...CENSUS_YEARS].sort().reverse().find((year) => year <= censusYear);
  if (!known) throw new Error(`no census code lists for ${censusYear}: the first is ${CENSUS_YEARS[0]}`);
  return { listsOf: known, lists: CENSUS_CODE_LISTS[known] };
}

const codesOf = (list: CodeEntry[]) => list.map((entry) => entry.code) as [string, ...string[]];
const lists2025 = CENSUS_CODE_LISTS['2025-26'];

/** zod enums of the 2025-26 lists (the types of the census model). */
export const referralSourceSchema = z.enum(codesOf(lists2025.referralSource));
/** Each code with its DfE description, for whoever chooses one (the decision form shows them). */
const optionLabels = (list: CodeEntry[]) => ({ 'x-option-labels': Object.fromEntries(list.map((entry) => [entry.code, `${entry.code}: ${entry.description}`])) });
export const primaryNeedCodeSchema = z.enum(codesOf(lists2025.primaryNeed)).meta(optionLabels(lists2025.primaryNeed));
export const reasonForClosureSchema = z.enum(codesOf(lists2025.reasonForClosure)).meta(optionLabels(lists2025.reasonForClosure));
export const assessmentFactorSchema = z.enum(codesOf(lists2025.assessmentFactors)).meta(optionLabels(lists2025.assessmentFactors));
export const sexSchema = z.enum(['M', 'F', 'U']);
export const ethnicitySchema = z.enum(codesOf(lists2025.ethnicity));
export const disabilitySchema = z.enum(codesOf(lists2025.disability));
export const upnUnknownSchema = z.enum(codesOf(lists2025.upnUnknown));
/** The factors chosen at an assessment's sign-off: at least one, each once, 21 (none identified) alone. */
export const assessmentFactorsSchema = z
  .array(assessmentFactorSchema)
  .min(1, 'choose at least one factor, or 21 (no factors identified)')
  .max(60)
  .refine((codes) => !codes.includes('21') || codes.length === 1, '21 (no factors identified) stands alone (census rule 8869)')
  .refine((codes) => new Set(codes).size === codes.length, 'each factor once (census rule 8898)');

export type ReferralSource = string;
export type PrimaryNeedCode = string;
export type ReasonForClosure = string;
export type AssessmentFactor = string;
export type Sex = z.infer<typeof sexSchema>;
export type Ethnicity = string;
export type Disability = string;
export type UpnUnknown = string;

/** A zod enum of one list of one census year, for validating input against that year. */
export function codeSchema(censusYear: string, list: keyof CensusCodeLists) {
  return z.enum(codesOf(codeListsFor(censusYear).lists[list]));
}

/**
 * The engine's referrer types (domain/referral.ts) onto ReferralSource. The engine's types
 * are coarser than the census's: where one type covers several codes, the general code of
 * its group is taken (health: 3F, education: 2B, local authority: 5B); a case system that
 * knows the exact code sends it instead, and that code wins.
 */
export const REFERRER_TYPE_TO_REFERRAL_SOURCE: Record<(typeof referrerTypes)[number], ReferralSource> = {
  police: '6',
  health: '3F',
  education: '2B',
  family: '1A',
  self: '1C',
  anonymous: '9',
  'local-authority': '5B',
  other: '8',
};

export function referralSourceFor(referrerType: (typeof referrerTypes)[number] | undefined, code?: string): ReferralSource {
  if (code !== undefined) return referralSourceSchema.parse(code);
  return referrerType === undefined ? '10' : REFERRER_TYPE_TO_REFERRAL_SOURCE[referrerType];
}
