import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes. They hold opaque references, stages, dates and flags only:
 * never a name, an address or free text, because the Temporal server stores and shows
 * them in the clear (payload encryption does not cover visibility).
 *
 * The SQL visibility store of the dev server allows at most 3 Datetime, 3 Bool and 3 Int
 * attributes, 10 Keyword and 3 KeywordList: keep within those numbers.
 */
export const StageKey = defineSearchAttributeKey('AssessmentStage', SearchAttributeType.KEYWORD);
export const TrackKey = defineSearchAttributeKey('AssessmentTrack', SearchAttributeType.KEYWORD);
export const ReferralIdKey = defineSearchAttributeKey('ReferralId', SearchAttributeType.KEYWORD);
export const TeamKey = defineSearchAttributeKey('Team', SearchAttributeType.KEYWORD);
export const ManagerIdKey = defineSearchAttributeKey('ManagerId', SearchAttributeType.KEYWORD);
export const LocalAuthorityKey = defineSearchAttributeKey('LocalAuthority', SearchAttributeType.KEYWORD);
export const OpenPromptKindsKey = defineSearchAttributeKey('OpenPromptKinds', SearchAttributeType.KEYWORD_LIST);
/**
 * Every open prompt's due instant and local id (`<due>~<kind>-<n>`, domain/prompt-due.ts):
 * the prompt list orders and pages prompts from visibility rows, then queries only one
 * page's workflows. Set by cases started since the open-prompts-due change.
 */
export const OpenPromptsDueKey = defineSearchAttributeKey('OpenPromptsDue', SearchAttributeType.KEYWORD_LIST);
export const CompletionDueAtKey = defineSearchAttributeKey('CompletionDueAt', SearchAttributeType.DATETIME);
export const VisitDueAtKey = defineSearchAttributeKey('VisitDueAt', SearchAttributeType.DATETIME);
export const CompletedAtKey = defineSearchAttributeKey('CompletedAt', SearchAttributeType.DATETIME);
export const OverdueKey = defineSearchAttributeKey('Overdue', SearchAttributeType.BOOL);
export const CompletedWithinTimescaleKey = defineSearchAttributeKey(
  'CompletedWithinTimescale',
  SearchAttributeType.BOOL,
);
export const SeenWithinTimescaleKey = defineSearchAttributeKey('SeenWithinTimescale', SearchAttributeType.BOOL);
export const WorkingDaysToCompleteKey = defineSearchAttributeKey(
  'WorkingDaysToComplete',
  SearchAttributeType.INT,
);
/**
 * The census duration in working days (domain/cin-census/measures.ts): an assessment's
 * start to authorisation, a section 47 enquiry's start to its initial conference.
 */
export const CensusWorkingDaysKey = defineSearchAttributeKey('CensusWorkingDays', SearchAttributeType.INT);
/** Notifications and case records that failed and have not gone through since: an operations alert when > 0. */
export const FailingDeliveriesKey = defineSearchAttributeKey('FailingDeliveries', SearchAttributeType.INT);

/**
 * Steps the rules require that are awaited (procedure-checks cases): 'time-not-set' (the seeds
 * give no time and the authority set none), 'past-due' (the authority's time has passed).
 * Deliberately says neither which rule nor which step: a step can reveal special category data.
 */
export const AwaitingStepsKey = defineSearchAttributeKey('AwaitingSteps', SearchAttributeType.KEYWORD_LIST);

/**
 * The case system's opaque reference of the child an assessment is about, the same across
 * referrals: a new contact's duty decision lists the child's earlier assessments by it (R-25,
 * api/earlier-involvement.ts). Set when the assessment starts.
 */
export const ChildRefKey = defineSearchAttributeKey('ChildRef', SearchAttributeType.KEYWORD);

/** Every custom attribute, for registering them on a server. */
export const allSearchAttributeKeys = [
  StageKey,
  TrackKey,
  ReferralIdKey,
  TeamKey,
  ManagerIdKey,
  LocalAuthorityKey,
  OpenPromptKindsKey,
  OpenPromptsDueKey,
  CompletionDueAtKey,
  VisitDueAtKey,
  CompletedAtKey,
  OverdueKey,
  CompletedWithinTimescaleKey,
  SeenWithinTimescaleKey,
  WorkingDaysToCompleteKey,
  FailingDeliveriesKey,
  CensusWorkingDaysKey,
  AwaitingStepsKey,
  ChildRefKey,
] as const;
