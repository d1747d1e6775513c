/**
 * The benchmark's denominator (`npm run bench`): a workflow with no domain logic that takes
 * the same messages as a whole case, so that the figure of the engine can be read against
 * what the same server, client and worker do for a bare workflow. It answers a query with
 * its open "prompt" and takes updates, each closing the prompt and opening the next, until
 * the case's number of updates has arrived. Bundled on its own (never in the engine's
 * bundle), run by a worker with the default data converter (no codec).
 */
import { condition, defineQuery, defineUpdate, setHandler } from '@temporalio/workflow';

export interface BarePrompt {
  promptId: string;
}

export const barePromptQuery = defineQuery<BarePrompt | null>('openPrompt');
export const bareStepUpdate = defineUpdate<{ accepted: true; step: number }, [Record<string, unknown>]>('step');

export async function bareCaseWorkflow(updates: number): Promise<number> {
  let step = 0;
  setHandler(barePromptQuery, () => (step < updates ? { promptId: `prompt-${step + 1}` } : null));
  setHandler(bareStepUpdate, () => {
    step += 1;
    return { accepted: true as const, step };
  });
  await condition(() => step >= updates);
  return step;
}
