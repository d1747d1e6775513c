/** The workflows the worker runs (this module is the worker's workflow bundle entry). */
export { referralWorkflow } from './referral';
export { assessmentWorkflow } from './assessment';
