/** TEST-ONLY workflow bundle: the product's workflows plus doubles of other engineers' workflows. */
export * from '../../../workflows';
export { strategyDiscussionWorkflow } from './strategy-discussion';
export { section47EnquiryDouble } from './section47-enquiry';
