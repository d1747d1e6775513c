/**
 * The browser of the page tests (test/pages/): Debian's `chromium` package at
 * /usr/bin/chromium (or CHROMIUM_PATH), installed with apt-get when missing, as CI runs on a
 * fresh machine. Playwright's own browser download is not used: it fetches from outside the
 * package registries, which this project's machines cannot reach.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { log } from './temporal';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function run(command: string, args: string[]): boolean {
  log(`chromium: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return result.status === 0;
}

export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) {
    log(`chromium: ${CHROMIUM_PATH}`);
    return CHROMIUM_PATH;
  }
  if (process.env.CHROMIUM_PATH) throw new Error(`CHROMIUM_PATH=${CHROMIUM_PATH} does not exist`);
  log(`chromium: ${CHROMIUM_PATH} is missing; installing Debian's chromium package`);
  // apt-get needs root: as root directly, otherwise through sudo without a password prompt.
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const apt = (...args: string[]) => (asRoot.length === 0 ? run('apt-get', args) : run(asRoot[0] as string, [...asRoot.slice(1), 'apt-get', ...args]));
  // A fresh machine may have no package lists yet: install, and on failure update them and try once more.
  if (!apt('install', '-y', '--no-install-recommends', 'chromium') && !(apt('update') && apt('install', '-y', '--no-install-recommends', 'chromium'))) {
    throw new Error("chromium: could not install Debian's chromium package (apt-get install -y chromium, as root); the page tests need it at /usr/bin/chromium, or set CHROMIUM_PATH");
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`chromium: installed, but ${CHROMIUM_PATH} is still missing`);
  log(`chromium: installed at ${CHROMIUM_PATH}`);
  return CHROMIUM_PATH;
}
