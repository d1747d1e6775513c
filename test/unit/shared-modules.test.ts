import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import vm from 'node:vm';
import { describe, expect, inject, it } from 'vitest';
import { SHARED_MODULE_ID } from '../../workflows/shared-modules';

/**
 * The modules every workflow shares (workflows/shared-modules.ts) must hold no state of a
 * workflow's. The domain reaching `@temporalio/workflow` would share a workflow's state
 * between workflows, so no domain file may import it; and the bundle the tests run on
 * must really share the domain (its records frozen, so the SDK's freeze leaves zod's
 * schemas alone) while each workflow still gets its own workflow modules.
 */
const domainDir = resolve(__dirname, '..', '..', 'domain');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The SDK's freeze of shared modules, as 1.24 does it: own properties, depth first, stopping at what is frozen. */
function deepFreeze(value: unknown, visited = new WeakSet<object>()): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || visited.has(value)) return;
  visited.add(value);
  if (Object.isFrozen(value)) return;
  if (typeof value === 'object') {
    for (const name of Reflect.ownKeys(value)) {
      try {
        deepFreeze((value as Record<string | symbol, unknown>)[name], visited);
      } catch {
        // as the SDK: some objects cannot be frozen
      }
    }
  }
  Object.freeze(value);
}

describe('modules shared between workflows', () => {
  it('no domain file imports the Temporal SDK (a shared module must hold no workflow state)', () => {
    const files = sourceFiles(domainDir);
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((file) => /from ['"]@temporalio\//.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the test bundle shares the domain and zod, frozen at the record only, and gives each workflow its own workflow modules', () => {
    const code = readFileSync(inject('workflowBundlePath'), 'utf8');
    const shared = new Map<string | symbol, object>();
    let perWorkflow: Map<string | symbol, object> | undefined;
    const moduleCache = new Proxy({}, {
      get: (_, id) => shared.get(id) ?? perWorkflow?.get(id),
      set: (_, id, record: object) => ((perWorkflow ?? shared).set(id, record), true),
    });
    const context = vm.createContext({});
    Object.defineProperty(context, '__webpack_module_cache__', { value: moduleCache });
    vm.runInContext('globalThis.__TEMPORAL__ = {};', context);
    new vm.Script(code).runInContext(context);
    vm.runInContext('__TEMPORAL__.preloadModules()', context);
    // What the SDK does next (worker/lib/workflow/reusable-vm.js): deep-freeze every shared record, skipping what is frozen already.
    for (const record of shared.values()) deepFreeze(record);

    const sharedIds = [...shared.keys()].map(String);
    expect(sharedIds).toEqual(expect.arrayContaining(['./domain/events.ts', './domain/prompts.ts', './domain/policy.ts']));
    expect(sharedIds.some((id) => id.includes('/node_modules/zod/'))).toBe(true);
    for (const id of sharedIds.filter((candidate) => SHARED_MODULE_ID.test(candidate))) expect(Object.isFrozen(shared.get(id)), id).toBe(true);

    // Two workflows: the same domain module, their own engine module.
    const engineOf = () => {
      perWorkflow = new Map();
      vm.runInContext('__TEMPORAL__.importWorkflows()', context);
      return { engine: perWorkflow.get('./workflows/engine.ts'), prompts: moduleCache['./domain/prompts.ts' as keyof typeof moduleCache] as unknown };
    };
    const first = engineOf();
    const second = engineOf();
    expect(first.engine).toBeDefined();
    expect(second.engine).not.toBe(first.engine);
    expect(second.prompts).toBe(first.prompts);
    expect(perWorkflow?.has('./domain/prompts.ts')).toBe(false);

    // A shared schema still parses (and parses again) after the records were frozen: zod rewrites its own parse on the first.
    const { decisionSchemas } = (shared.get('./domain/prompts.ts') as { exports: { decisionSchemas: Record<string, { safeParse(input: unknown): { success: boolean } }> } }).exports;
    const duty = decisionSchemas['duty-decision']!;
    expect(Object.isFrozen(duty)).toBe(false);
    const answer = { promptId: 'referral-REF-1~duty-decision-1', decision: 'early-help', rationale: 'early help offer', decidedBy: 'MGR-1', decidedAt: '2026-01-05T10:00:00.000Z' };
    expect(duty.safeParse(answer).success).toBe(true);
    expect(duty.safeParse(answer).success).toBe(true);
    expect(duty.safeParse({ decision: 'not-a-decision' }).success).toBe(false);
  });
});
