/**
 * The community CIN census validator (csc-validator-be-cin, from PyPI), run on an XML file.
 * Its venv (tools/.venv-cin) is created on first use from tools/requirements-cin-validator.txt,
 * which pins the validator and its working set (numpy<2 and pytest beside it), so every
 * machine and CI runs the same validator. The ruleset is passed explicitly: the validator's
 * command line defaults to an older year.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const CIN_RULESET = 'cin2025_26';

const root = path.resolve(__dirname, '../..');
const venv = path.join(root, 'tools/.venv-cin');
const requirements = path.join(root, 'tools/requirements-cin-validator.txt');
const runner = path.join(__dirname, 'cin_validator_run.py');
const python = path.join(venv, 'bin/python');
const stamp = path.join(venv, '.requirements-installed');

export interface ValidatorFinding {
  rule: string;
  kind: 'ERROR' | 'QUERY';
  childId: string | null;
  table: string | null;
  column: string | null;
  message: string;
}

export interface ValidatorReport {
  ruleset: string;
  rulesRun: number;
  children: number;
  /** Findings located on a child's records. */
  childLevel: ValidatorFinding[];
  /** Findings about the return as a whole (a local authority's figures or its header). */
  laLevel: Array<{ rule: string; kind: 'ERROR' | 'QUERY'; message: string }>;
  /** Rules that raised an exception instead of judging (the validator prints and goes on). */
  crashes: string[];
}

/** Creates the venv and installs the pinned requirements, unless already done for this file's contents. */
export function ensureCinValidator(): string {
  const wanted = readFileSync(requirements, 'utf8');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return python;
  if (!existsSync(python)) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', '-r', requirements], { stdio: 'inherit', timeout: 900_000 });
  writeFileSync(stamp, wanted);
  return python;
}

/** Runs the validator with `ruleset` on an XML file and returns what it found. */
export function runCinValidator(xmlFile: string, ruleset: string = CIN_RULESET): ValidatorReport {
  if (!statSync(xmlFile).isFile()) throw new Error(`${xmlFile} is not a file`);
  const interpreter = ensureCinValidator();
  const out = execFileSync(interpreter, [runner, xmlFile, ruleset], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 600_000 });
  return JSON.parse(out) as ValidatorReport;
}

export const childErrors = (report: ValidatorReport) => report.childLevel.filter((finding) => finding.kind === 'ERROR');
