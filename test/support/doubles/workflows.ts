/** TEST-ONLY workflow bundle: the product's workflows plus the strategy discussion double. */
export * from '../../../workflows';
export { strategyDiscussionWorkflow } from './strategy-discussion';
