import { describe, expect, it } from 'vitest';
import { referrerTypes } from '../../domain/referral';
import { CENSUS_CODE_LISTS, REFERRER_TYPE_TO_REFERRAL_SOURCE, censusPeriod, codeListsFor, referralSourceFor, referralSourceSchema } from '../../domain/cin-census/codes';
import { censusXml, censusXmlChunks, censusXmlStream, escapeXml, type CensusChild, type CensusHeader } from '../../domain/cin-census/census-xml';

const header: CensusHeader = { collectionYear: '2026', referenceDate: '2026-03-31', sourceLevel: 'L', laCode: '201', softwareCode: 'engine', release: '1', serialNo: '001', dateTime: '2026-04-01T09:00:00' };
const child = (id: string): CensusChild => ({
  identifiers: { laChildId: id, upnUnknown: 'UN1', personBirthDate: '2022-05-01', sex: 'F' },
  characteristics: { ethnicity: 'WBRI', disabilities: ['NONE'] },
  cinDetails: [{ referralDate: '2025-06-02', referralSource: '6', referralNfa: true, assessments: [], cinPlanDates: [], section47s: [], childProtectionPlans: [] }],
});

describe('CIN census code lists (2025-26)', () => {
  it('holds the codes the validator checks, each once, with a description', () => {
    const lists = CENSUS_CODE_LISTS['2025-26'];
    expect(lists.referralSource.map((entry) => entry.code)).toEqual(['1A', '1B', '1C', '1D', '2A', '2B', '3A', '3B', '3C', '3D', '3E', '3F', '4', '5A', '5B', '5C', '5D', '6', '7', '8', '9', '10']);
    expect(lists.primaryNeed.map((entry) => entry.code)).toEqual(['N0', 'N1', 'N2', 'N3', 'N4', 'N5', 'N6', 'N7', 'N8', 'N9']);
    expect(lists.reasonForClosure.map((entry) => entry.code)).toEqual(['RC1', 'RC2', 'RC3', 'RC4', 'RC5', 'RC6', 'RC7', 'RC8', 'RC9']);
    expect(lists.assessmentFactors).toHaveLength(44);
    expect(lists.assessmentFactors.find((entry) => entry.code === '18A')?.withdrawn).toEqual({ useInstead: ['18B', '18C'] });
    expect(lists.ethnicity).toHaveLength(20);
    expect(lists.disability).toHaveLength(13);
    expect(lists.upnUnknown.map((entry) => entry.code)).toEqual(['UN1', 'UN2', 'UN3', 'UN4', 'UN5', 'UN6', 'UN7']);
    for (const list of Object.values(lists) as Array<Array<{ code: string; description: string }>>) {
      expect(new Set(list.map((entry) => entry.code)).size).toBe(list.length);
      for (const entry of list) expect(entry.description.length).toBeGreaterThan(2);
    }
  });

  it('maps every referrerType onto a ReferralSource code; a supplied code wins', () => {
    for (const type of referrerTypes) expect(referralSourceSchema.safeParse(REFERRER_TYPE_TO_REFERRAL_SOURCE[type]).success).toBe(true);
    expect(referralSourceFor('police')).toBe('6');
    expect(referralSourceFor('health', '3E')).toBe('3E');
    expect(referralSourceFor(undefined)).toBe('10');
    expect(() => referralSourceFor('police', '11')).toThrow();
  });

  it('versions by census year: a later year uses the newest earlier list until its own is added; an earlier one is refused', () => {
    expect(codeListsFor('2025-26').listsOf).toBe('2025-26');
    expect(codeListsFor('2027-28').listsOf).toBe('2025-26');
    expect(() => codeListsFor('2024-25')).toThrow(/no census code lists/);
    expect(() => codeListsFor('2025-27')).toThrow();
    expect(censusPeriod('2025-26')).toEqual({ start: '2025-04-01', referenceDate: '2026-03-31', collectionYear: '2026' });
  });
});

describe('CIN census XML', () => {
  it('has the Message root, no namespace, the header and one Child per child', () => {
    const xml = censusXml({ header, children: [child('A1'), child('B2')] });
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n')).toBe(true);
    expect(xml).not.toMatch(/xmlns/);
    expect(xml).toContain('<Collection>CIN</Collection>');
    expect(xml).toContain('<ReferenceDate>2026-03-31</ReferenceDate>');
    expect(xml).toContain('<LEA>201</LEA>');
    expect(xml.match(/<Child>/g)).toHaveLength(2);
    expect(xml).toContain('<ReferralNFA>true</ReferralNFA>');
    expect(xml).not.toContain('<UPN>');
    expect(xml.trimEnd().endsWith('</Children>\n</Message>')).toBe(true);
  });

  it('writes assessments, factors and section 47s in the places the validator reads them', () => {
    const full = child('C3');
    full.cinDetails[0] = {
      ...full.cinDetails[0]!,
      referralNfa: false,
      primaryNeedCode: 'N1',
      assessments: [{ actualStartDate: '2025-06-03', authorisationDate: '2025-07-01', factors: ['3B', '16A'] }],
      section47s: [{ actualStartDate: '2025-06-04', initialCpcTarget: '2025-06-25', dateOfInitialCpc: '2025-06-20', icpcNotRequired: false }],
    };
    const xml = censusXml({ header, children: [full] });
    expect(xml).toMatch(/<Assessments>\s*<AssessmentActualStartDate>2025-06-03<\/AssessmentActualStartDate>\s*<AssessmentAuthorisationDate>2025-07-01<\/AssessmentAuthorisationDate>\s*<FactorsIdentifiedAtAssessment>\s*<AssessmentFactors>3B<\/AssessmentFactors>\s*<AssessmentFactors>16A<\/AssessmentFactors>/);
    expect(xml).toMatch(/<Section47>\s*<S47ActualStartDate>2025-06-04<\/S47ActualStartDate>\s*<InitialCPCtarget>2025-06-25<\/InitialCPCtarget>\s*<DateOfInitialCPC>2025-06-20<\/DateOfInitialCPC>\s*<ICPCnotRequired>false<\/ICPCnotRequired>/);
  });

  it('escapes text and refuses characters XML cannot carry', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    const xml = censusXml({ header: { ...header, softwareCode: 'R&D <engine>' }, children: [] });
    expect(xml).toContain('<SoftwareCode>R&amp;D &lt;engine&gt;</SoftwareCode>');
    expect(xml).toContain('<Children>');
    expect(() => escapeXml('bell\u0007')).toThrow();
    expect(() => escapeXml('half \uD800 pair')).toThrow();
  });

  it('streams one chunk per child, sync and async, the same text as the whole', async () => {
    const children = [child('A1'), child('B2'), child('C3')];
    const chunks = [...censusXmlChunks({ header, children })];
    expect(chunks).toHaveLength(5);
    async function* slowly() {
      for (const each of children) yield each;
    }
    const streamed: string[] = [];
    for await (const chunk of censusXmlStream(header, slowly())) streamed.push(chunk);
    expect(streamed.join('')).toBe(chunks.join(''));
    expect(chunks.join('')).toBe(censusXml({ header, children }));
  });
});
