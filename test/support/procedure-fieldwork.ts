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

/** The fieldwork of a section 17 assessment up to its submission, with every checklist item met. */
export const fieldworkToSubmission: Array<Record<string, unknown> & { type: string }> = [
  { type: 'child-seen', seenAlone: true, viewsRecorded: true },
  { type: 'home-visited', bedroomSeen: true, informationGiven: FIRST_VISIT_INFORMATION },
  { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true },
  { type: 'agency-information-received', agency: 'education' },
  { type: 'analysis-completed', sources: ['SRC-1', 'SRC-2'] },
  ...procedureFieldwork,
  { type: 'assessment-submitted' },
];
