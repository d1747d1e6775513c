/**
 * The census return as a typed model, and its XML: a `<Message>` root with `Header` and
 * `Children/Child/...`, no namespace, the elements the DfE's CIN census schema names and
 * the community validator (csc-validator-be-cin) reads. Pure: the XML comes out as string
 * chunks, one child at a time, so that a large authority's return streams.
 */
import type { AssessmentFactor, Disability, Ethnicity, PrimaryNeedCode, ReasonForClosure, ReferralSource, Sex, UpnUnknown } from './codes';

/** A local date, YYYY-MM-DD. */
export type CensusDate = string;

export interface CensusHeader {
  /** The year of the reference date, e.g. '2026' for the 2025-26 census. */
  collectionYear: string;
  /** 31 March of collectionYear (validator rule 100). */
  referenceDate: CensusDate;
  /** 'L': a local authority's return. */
  sourceLevel: 'L';
  /** The three-digit DfE local authority code. */
  laCode: string;
  softwareCode: string;
  release: string;
  serialNo: string;
  /** When the return was made, local time, YYYY-MM-DDTHH:MM:SS. */
  dateTime: string;
}

export interface ChildIdentifiers {
  /** At most 20 letters and digits (validator rules 1570, 1580). */
  laChildId: string;
  upn?: string;
  formerUpn?: string;
  upnUnknown?: UpnUnknown;
  personBirthDate?: CensusDate;
  expectedPersonBirthDate?: CensusDate;
  sex: Sex;
  personDeathDate?: CensusDate;
}

export interface ChildCharacteristics {
  ethnicity: Ethnicity;
  disabilities: Disability[];
}

export interface CensusAssessment {
  actualStartDate: CensusDate;
  internalReviewDate?: CensusDate;
  /** Sign-off; absent while the assessment is open at the reference date. */
  authorisationDate?: CensusDate;
  /** Only with an authorisation date (rule 8614). */
  factors?: AssessmentFactor[];
}

export interface CensusPlanDates {
  startDate: CensusDate;
  endDate?: CensusDate;
}

export interface CensusSection47 {
  actualStartDate: CensusDate;
  initialCpcTarget?: CensusDate;
  dateOfInitialCpc?: CensusDate;
  icpcNotRequired: boolean;
}

export interface CensusChildProtectionPlan {
  startDate: CensusDate;
  endDate?: CensusDate;
  initialCategoryOfAbuse: string;
  latestCategoryOfAbuse: string;
  numberOfPreviousCpp: number;
  reviewDates: CensusDate[];
}

/** One episode of need (a CINdetails module): a referral and what followed it. */
export interface CinDetails {
  referralDate: CensusDate;
  referralSource: ReferralSource;
  primaryNeedCode?: PrimaryNeedCode;
  closureDate?: CensusDate;
  reasonForClosure?: ReasonForClosure;
  /** An ICPC with no section 47 record; with one, the date goes on the Section47 (rule 2884). */
  dateOfInitialCpc?: CensusDate;
  referralNfa: boolean;
  assessments: CensusAssessment[];
  cinPlanDates: CensusPlanDates[];
  section47s: CensusSection47[];
  childProtectionPlans: CensusChildProtectionPlan[];
}

export interface CensusChild {
  identifiers: ChildIdentifiers;
  characteristics: ChildCharacteristics;
  cinDetails: CinDetails[];
}

export interface CensusReturn {
  header: CensusHeader;
  children: Iterable<CensusChild>;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text for XML element content and attributes; refuses the characters XML 1.0
 * cannot carry at all (controls other than tab, newline and carriage return, lone surrogates).
 */
export function escapeXml(text: string): string {
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(text) || /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) {
    throw new Error('text holds a character XML cannot carry');
  }
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

type Node = [name: string, content: string | number | boolean | undefined | Node[]];

function render(nodes: Node[], depth: number): string {
  const pad = '  '.repeat(depth);
  let out = '';
  for (const [name, content] of nodes) {
    if (content === undefined) continue;
    if (Array.isArray(content)) {
      out += content.length === 0 ? `${pad}<${name}/>\n` : `${pad}<${name}>\n${render(content, depth + 1)}${pad}</${name}>\n`;
    } else {
      out += `${pad}<${name}>${escapeXml(String(content))}</${name}>\n`;
    }
  }
  return out;
}

const list = <T>(name: string, items: T[], each: (item: T) => Node[]): Node[] => items.map((item) => [name, each(item)]);

function childNodes(child: CensusChild): Node[] {
  const id = child.identifiers;
  return [
    [
      'ChildIdentifiers',
      [
        ['LAchildID', id.laChildId],
        ['UPN', id.upn],
        ['FormerUPN', id.formerUpn],
        ['UPNunknown', id.upnUnknown],
        ['PersonBirthDate', id.personBirthDate],
        ['ExpectedPersonBirthDate', id.expectedPersonBirthDate],
        ['Sex', id.sex],
        ['PersonDeathDate', id.personDeathDate],
      ],
    ],
    [
      'ChildCharacteristics',
      [
        ['Ethnicity', child.characteristics.ethnicity],
        ['Disabilities', child.characteristics.disabilities.map((code): Node => ['Disability', code])],
      ],
    ],
    ...list('CINdetails', child.cinDetails, (episode): Node[] => [
      ['CINreferralDate', episode.referralDate],
      ['ReferralSource', episode.referralSource],
      ['PrimaryNeedCode', episode.primaryNeedCode],
      ['CINclosureDate', episode.closureDate],
      ['ReasonForClosure', episode.reasonForClosure],
      ['DateOfInitialCPC', episode.dateOfInitialCpc],
      ...list('Assessments', episode.assessments, (assessment): Node[] => [
        ['AssessmentActualStartDate', assessment.actualStartDate],
        ['AssessmentInternalReviewDate', assessment.internalReviewDate],
        ['AssessmentAuthorisationDate', assessment.authorisationDate],
        ['FactorsIdentifiedAtAssessment', assessment.factors?.map((code): Node => ['AssessmentFactors', code])],
      ]),
      ...list('CINPlanDates', episode.cinPlanDates, (plan): Node[] => [
        ['CINPlanStartDate', plan.startDate],
        ['CINPlanEndDate', plan.endDate],
      ]),
      ...list('Section47', episode.section47s, (s47): Node[] => [
        ['S47ActualStartDate', s47.actualStartDate],
        ['InitialCPCtarget', s47.initialCpcTarget],
        ['DateOfInitialCPC', s47.dateOfInitialCpc],
        ['ICPCnotRequired', s47.icpcNotRequired],
      ]),
      ['ReferralNFA', episode.referralNfa],
      ...list('ChildProtectionPlans', episode.childProtectionPlans, (plan): Node[] => [
        ['CPPstartDate', plan.startDate],
        ['CPPendDate', plan.endDate],
        ['InitialCategoryOfAbuse', plan.initialCategoryOfAbuse],
        ['LatestCategoryOfAbuse', plan.latestCategoryOfAbuse],
        ['NumberOfPreviousCPP', plan.numberOfPreviousCpp],
        ...list('Reviews', plan.reviewDates, (date): Node[] => [['CPPreviewDate', date]]),
      ]),
    ]),
  ];
}

function headerXml(header: CensusHeader): string {
  return render(
    [
      [
        'Header',
        [
          [
            'CollectionDetails',
            [
              ['Collection', 'CIN'],
              ['Year', header.collectionYear],
              ['ReferenceDate', header.referenceDate],
            ],
          ],
          [
            'Source',
            [
              ['SourceLevel', header.sourceLevel],
              ['LEA', header.laCode],
              ['SoftwareCode', header.softwareCode],
              ['Release', header.release],
              ['SerialNo', header.serialNo],
              ['DateTime', header.dateTime],
            ],
          ],
        ],
      ],
    ],
    1,
  );
}

const OPENING = '<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n';

/** One child's `<Child>` element. */
export function childXml(child: CensusChild): string {
  return render([['Child', childNodes(child)]], 2);
}

/** The return as chunks: the opening and header, then one chunk per child, then the closing. */
export function* censusXmlChunks(census: CensusReturn): Generator<string> {
  yield `${OPENING}${headerXml(census.header)}  <Children>\n`;
  for (const child of census.children) yield childXml(child);
  yield '  </Children>\n</Message>\n';
}

/** The same, from children that arrive asynchronously (e.g. read from the engine one case at a time). */
export async function* censusXmlStream(header: CensusHeader, children: AsyncIterable<CensusChild> | Iterable<CensusChild>): AsyncGenerator<string> {
  yield `${OPENING}${headerXml(header)}  <Children>\n`;
  for await (const child of children) yield childXml(child);
  yield '  </Children>\n</Message>\n';
}

export function censusXml(census: CensusReturn): string {
  return [...censusXmlChunks(census)].join('');
}
