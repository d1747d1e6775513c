/**
 * A whole generated census year goes through from-engine.ts and the XML builder, and the
 * community validator (csc-validator-be-cin, ruleset cin2025_26) judges the file: no
 * child-level error, no child-level query, and only the LA-level queries a small return
 * always raises, each named below with the reason.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { censusXml } from '../../domain/cin-census/census-xml';
import { censusChildrenFromEngine, type CensusFromEngine } from '../../domain/cin-census/from-engine';
import { CIN_RULESET, childErrors, runCinValidator, type ValidatorReport } from '../support/cin-validator';
import { generateCensusYear, type GeneratedYear } from '../support/cin-census-year';

/**
 * LA-level queries that a return of a handful of children always raises, whatever its
 * quality: they judge an authority's whole return against what a real one holds.
 */
const EXPECTED_LA_QUERIES: Record<string, string> = {
  // "Less than 8 disability codes have been used in your return": a return of nine children,
  // most with no disability, cannot use eight different disability codes; a real authority's can.
  '2887Q': 'a small return uses fewer than 8 distinct disability codes',
};

describe('CIN census: a generated year, judged by the community validator', () => {
  let year: GeneratedYear;
  let built: CensusFromEngine;
  let report: ValidatorReport;

  beforeAll(() => {
    year = generateCensusYear();
    built = censusChildrenFromEngine({ censusYear: year.censusYear, calendar: year.calendar, referrals: year.referrals, children: year.children });
    const xml = censusXml({
      header: {
        collectionYear: year.period.collectionYear,
        referenceDate: year.period.referenceDate,
        sourceLevel: 'L',
        laCode: '201',
        softwareCode: 'assessment-engine',
        release: '0.1.0',
        serialNo: '001',
        dateTime: `${year.period.referenceDate}T18:00:00`,
      },
      children: built.children.map((entry) => entry.child),
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'cin-census-'));
    const file = path.join(dir, 'cin-census.xml');
    writeFileSync(file, xml);
    report = runCinValidator(file, CIN_RULESET);
  }, 900_000);

  it('returns every child with activity in the year and says why the others are left out', () => {
    expect(built.children.map((entry) => entry.childRef)).toEqual(['C001', 'C002', 'C003', 'C004', 'C005', 'C006', 'C007', 'C008', 'C009']);
    expect(built.leftOut).toEqual([
      { childRef: 'C010', reason: 'no activity in the census year' },
      { childRef: 'C011', reason: 'no identifiers supplied' },
    ]);
    expect(built.warnings).toEqual([]);
    expect(report.children).toBe(9);
  });

  it('ran the whole cin2025_26 ruleset, no rule crashing', () => {
    expect(report.ruleset).toBe('cin2025_26');
    expect(report.rulesRun).toBeGreaterThan(100);
    expect(report.crashes).toEqual([]);
  });

  it('finds no child-level error and no child-level query', () => {
    expect(childErrors(report)).toEqual([]);
    expect(report.childLevel).toEqual([]);
  });

  it('raises only the LA-level queries a small return always raises', () => {
    expect(report.laLevel.filter((finding) => finding.kind === 'ERROR')).toEqual([]);
    expect(Object.fromEntries(report.laLevel.map((finding) => [finding.rule, EXPECTED_LA_QUERIES[finding.rule] ?? finding.message]))).toEqual(EXPECTED_LA_QUERIES);
  });
});
