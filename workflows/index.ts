/** The workflows the worker runs (this module is the worker's workflow bundle entry). */
export { referralWorkflow } from './referral';
export { assessmentWorkflow } from './assessment';
export { strategyDiscussionWorkflow } from './strategy-discussion';
export { section47EnquiryWorkflow } from './section47-enquiry';
export { childInNeedPlanWorkflow } from './child-in-need-plan';
