/**
 * Issue 9: no deadline about a child can be stalled, dodged or miscounted, proven by
 * invariants over generated cases (fast-check) on the time-skipping test server.
 *
 * Each generated case is a referral (receipt on a weekday, an evening, a weekend, a bank
 * holiday or a clock-change weekend, back-dated 0 to 90 days; with or without a child
 * protection concern; one or two children, unborn / 5 / 12 / 16 / 17, ages on the server's
 * clock), the receivers down for generated windows (minutes to days of workflow time), and
 * a generated sequence of waits, decisions and field events in random orders, with
 * repeats, late and out-of-order events and streams of new information. After every step
 * every workflow of the case is queried and the invariants of invariants.ts are checked.
 *
 * `npm test` runs a bounded number of cases (PROPERTY_RUNS, default below) from a seed
 * that is printed (PROPERTY_SEED reproduces it); `npm run test:properties -- --runs N`
 * runs more. PROPERTY_SURVEY=1 (`--survey`) runs every case without stopping at the first
 * failure and prints which invariants failed in how many cases; PROPERTY_ONLY=I2,I4
 * (`--only I2,I4`) counts only those invariants as failures.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseArbitrary } from './case-model';
import { PropertyWorld, type CaseReport } from './driver';
import { invariantNames, type InvariantName, type Violation } from './invariants';
import { propertyParameters, propertyRuns } from './settings';

const DEFAULT_RUNS = 15;
const runs = propertyRuns(DEFAULT_RUNS);
const survey = process.env.PROPERTY_SURVEY === '1';
/** Stop shrinking (and further runs) after this long: bounded in `npm test`, unbounded in a long run unless set. */
const timeLimitMs = Number(process.env.PROPERTY_TIME_LIMIT_MS ?? (process.env.PROPERTY_RUNS ? 0 : 75_000)) || undefined;

/** PROPERTY_ONLY=I2,I3 (`--only I2,I3`): only violations of these invariants (name prefixes) fail a case. */
const only = (process.env.PROPERTY_ONLY ?? '').split(',').map((prefix) => prefix.trim()).filter(Boolean);
/** Which failure shrinking keeps to: what the engine does before what its state does not show. */
const shrinkOrder: InvariantName[] = [
  'I3-moved-later',
  'I2-escalated-late',
  'I2-pending-past-due',
  'I2-fired-late',
  'I5-overdue-flag',
  'I4-working-days',
  'I6-refused-event',
  'I1-next-deadline',
  'I1-prompt-due',
  'I1-deadlines-listed',
  'I0-query',
];

let world: PropertyWorld;
const reports: CaseReport[] = [];

beforeAll(async () => {
  world = await PropertyWorld.start();
});
afterAll(async () => {
  if (reports.length > 0) console.log(summary(reports));
  await world?.stop();
});

/** The cases `npm test` runs every day (a seed of its own: `npm run test:properties` draws new ones). */
const NPM_TEST_SEED = 180187849;

describe('deadline integrity (issue 9): invariants over generated cases', () => {
  it(
    'every open assessment has a next deadline and every open prompt a due time; no deadline fires late; no message moves one later; every deadline is counted right; overdue flags agree',
    async () => {
      // Once a case fails, shrinking keeps to one failure of it (a wrong behaviour before a
      // missing field, in shrinkOrder), so that the smallest case shows that failure and not
      // merely the easiest one to reach.
      let focus: { invariant: InvariantName; missing: boolean } | undefined;
      const matches = (violation: Violation) => focus !== undefined && violation.invariant === focus.invariant && (violation.missing === true) === focus.missing;
      await fc.assert(
        fc.asyncProperty(caseArbitrary(), async (spec) => {
          const report = await world.runCase(spec);
          reports.push(report);
          const counted = report.violations.filter((violation) => only.length === 0 || only.some((prefix) => violation.invariant.startsWith(prefix)));
          if (counted.length === 0) return;
          if (survey) {
            console.log(formatReport(report));
            return;
          }
          if (focus === undefined) {
            for (const missing of [false, true]) {
              const invariant = shrinkOrder.find((name) => counted.some((violation) => violation.invariant === name && (violation.missing === true) === missing));
              if (invariant) {
                focus = { invariant, missing };
                break;
              }
            }
            console.log(`first failing case (before shrinking, which keeps to ${focus?.invariant}${focus?.missing ? ' (a missing field)' : ''}):\n${formatReport(report)}`);
          }
          if (counted.some(matches)) throw new Error(formatReport(report));
        }),
        propertyParameters('deadline invariants', DEFAULT_RUNS, {
          ...(timeLimitMs ? { interruptAfterTimeLimit: timeLimitMs } : {}),
          ...(process.env.PROPERTY_SHRINK === '0' ? { endOnFailure: true } : {}),
          verbose: fc.VerbosityLevel.None,
        }, NPM_TEST_SEED),
      );
      if (survey) expect(reports.filter((report) => report.violations.length > 0).map((report) => `case ${report.caseNumber}`)).toEqual([]);
    },
    (timeLimitMs ?? runs * 60_000) + 120_000,
  );
});

function formatReport(report: CaseReport): string {
  const lines = [
    `case ${report.caseNumber} (${report.referralId}): ${report.violations.length} violation(s); ${(report.realMs / 1000).toFixed(1)} s real, ${(report.workflowMs / 86_400_000).toFixed(1)} days of workflow time`,
    ...report.description.map((line) => `  ${line}`),
    '  steps:',
    ...report.executed.map((line) => `    ${line}`),
    '  violations:',
    ...report.violations.map((violation) => `    [${violation.invariant}${violation.missing ? ', field missing' : ''}] step #${violation.step} (${violation.stepLabel}) ${violation.workflowId}: ${violation.detail}`),
  ];
  return lines.join('\n');
}

/** Per invariant: in how many cases it failed, the first such case and what failed. */
function summary(all: CaseReport[]): string {
  const total = all.length;
  const realMs = all.reduce((sum, report) => sum + report.realMs, 0);
  const lines = [`[property] deadline invariants: ${total} case(s) run (shrinking included), ${(realMs / 1000).toFixed(1)} s in cases, ${world?.restarts ?? 0} server restart(s), ${world?.stalls ?? 0} stall(s) of the test server (temporalio/sdk-java#3088) played again, ${world?.setAside ?? 0} case(s) set aside after stalling on every attempt; ${total - (world?.setAside ?? 0)} case(s) checked to the end`];
  lines.push(`  reached: ${followOnReached(all)}`);
  for (const name of Object.keys(invariantNames) as InvariantName[]) {
    const failing = all.filter((report) => report.violations.some((violation) => violation.invariant === name));
    if (failing.length === 0) {
      lines.push(`  holds  ${name}: ${invariantNames[name]}`);
      continue;
    }
    const kinds = new Map<string, number>();
    for (const report of failing) {
      const whats = report.violations.filter((violation) => violation.invariant === name).map((violation) => `${violation.what}${violation.missing ? ' [field missing]' : ''}`);
      for (const what of new Set(whats)) kinds.set(what, (kinds.get(what) ?? 0) + 1);
    }
    const first = failing[0]!;
    const example = first.violations.find((violation) => violation.invariant === name)!;
    lines.push(`  FAILS  ${name} in ${failing.length}/${total} cases: ${invariantNames[name]}`);
    for (const [what, count] of [...kinds.entries()].sort((a, b) => b[1] - a[1])) lines.push(`           ${count}x ${what}`);
    lines.push(`           first: case ${first.caseNumber} step #${example.step}: ${example.detail}`);
  }
  return lines.join('\n');
}

/** Section 9's paths (issue 17) the cases reached, so that a run shows its new deadlines were exercised. */
const followOnPaths: Array<[string, RegExp]> = [
  ['an assessment plan', /assessment plan recorded: (applied|signalled)/],
  ['a plan action overdue', /plan action overdue: .*: accepted/],
  ['a safety plan', /safety plan agreed .*: accepted/],
  ['a safety plan period ended', /safety plan (renewed|ended).*: accepted/],
  ['a specialist assessment', /specialist assessment requested: (applied|signalled)|(sign off|new information): specialist.assessment: accepted/],
  ['a child in need plan reviewed', /child in need plan review: .*: accepted/],
];

function followOnReached(all: CaseReport[]): string {
  return followOnPaths.map(([what, pattern]) => `${what} in ${all.filter((report) => report.executed.some((line) => pattern.test(line))).length}`).join(', ');
}
