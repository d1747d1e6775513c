/**
 * The fieldwork the second reading's checklist items need on the record (R-29, R-30, R-36,
 * R-21's chronology and stage of development), for whole-case tests that sign off with
 * every item met. Event bodies without eventId, occurredAt and actor.
 */
export const FIRST_VISIT_INFORMATION = { introductoryLetterAndPack: true, consentForm: true, complaintsProcedure: true } as const;

export const procedureFieldwork: Array<Record<string, unknown> & { type: string }> = [
  { type: 'parents-told-of-concerns', status: 'told' },
  { type: 'child-wishes-recorded', method: 'direct-work', howUsed: 'the plan follows what the child asked for', explanationGiven: true, sharedWithParents: true },
  { type: 'chronology-updated' },
  { type: 'development-stage-recorded' },
];
