/**
 * The domain modules (and zod) that every workflow shares instead of evaluating anew.
 *
 * The SDK's reusable V8 context gives each workflow its own copy of every module it
 * imports, so each new workflow, and each workflow replayed after leaving the worker's
 * cache, built every zod schema of the domain again: about 150 ms of the workflow thread
 * per workflow, most of what a case cost (`npm run bench:modules` measures it). This
 * module is the bundle's `preloadModules` entry (worker/worker.ts): it and what it imports
 * are evaluated once per worker thread, before any workflow, and shared.
 *
 * The SDK deep-freezes what is preloaded, which zod 4 cannot live with: a schema binds
 * its methods onto itself on first read, rewrites its own parse function on first parse,
 * and resets its patterns' `lastIndex` on every check. The SDK's freeze skips what is
 * already frozen, so this module freezes each shared module's record (only the record:
 * its exports stay as webpack made them, getters) and the freeze walks no further.
 *
 * What is shared must hold no state of a workflow's: the domain modules are pure
 * functions and schemas, and import nothing from `@temporalio/workflow`; what zod caches
 * is derived from the schemas alone. test/unit/shared-modules.test.ts checks that no
 * shared module reaches the workflow API.
 */
import '../domain/assessment-rules';
import '../domain/child-in-need-plan';
import '../domain/cin-census/measures';
import '../domain/events';
import '../domain/ids';
import '../domain/outcomes';
import '../domain/policy';
import '../domain/procedure-checks';
import '../domain/process';
import '../domain/prompt-due';
import '../domain/prompts';
import '../domain/record';
import '../domain/referral';
import '../domain/working-days';
import 'zod';

/**
 * Webpack's module ids (paths from the repository, its context) of the modules shared this
 * way: the domain's, and zod's wherever node_modules is (a checkout whose node_modules is a
 * link elsewhere names them `../<elsewhere>/node_modules/zod/...`).
 */
export const SHARED_MODULE_ID = /^\.\/domain\/|\/node_modules\/zod\//;

// Webpack's module table (its own name for it in the bundle; absent under Node), and the
// module cache the SDK's bundle routes through globalThis (shared records first).
declare const __webpack_modules__: Record<string, unknown> | undefined;
const moduleCache = (globalThis as { __webpack_module_cache__?: Record<string, object | undefined> }).__webpack_module_cache__;

/** The ids of the modules this bundle shares: loaded during the preload and matched by SHARED_MODULE_ID. */
export function freezeSharedModuleRecords(): string[] {
  if (typeof __webpack_modules__ === 'undefined' || moduleCache === undefined) return [];
  const shared: string[] = [];
  for (const id of Object.keys(__webpack_modules__)) {
    if (!SHARED_MODULE_ID.test(id)) continue;
    const record = moduleCache[id];
    if (record === undefined) continue;
    Object.freeze(record);
    shared.push(id);
  }
  return shared;
}

freezeSharedModuleRecords();
