/**
 * TEST DOUBLE, not product code: stands in for the strategy discussion workflow that
 * another engineer writes (workflows/strategy-discussion.ts), so that the assessment's
 * tests can see the child it starts and hand it a result. It registers under the same
 * workflow type name, 'strategyDiscussionWorkflow', in a test-only bundle.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import type { StrategyDiscussionInput, StrategyDiscussionResult } from '../../../domain/process';

export const concludeDoubleSignal = defineSignal<[StrategyDiscussionResult]>('testDoubleConclude');
export const doubleInputQuery = defineQuery<StrategyDiscussionInput>('testDoubleInput');

export async function strategyDiscussionWorkflow(input: StrategyDiscussionInput): Promise<StrategyDiscussionResult> {
  let result: StrategyDiscussionResult | undefined;
  setHandler(doubleInputQuery, () => input);
  setHandler(concludeDoubleSignal, (given) => {
    result = given;
  });
  await condition(() => result !== undefined);
  return result!;
}
