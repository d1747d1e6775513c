/**
 * The engine's patch ids (`patched()`), oldest first. A case keeps the behaviour it started
 * with: see "Changing a workflow safely" in README.
 */

/** The patch that introduced the deadline-integrity behaviour (see the file comment). */
export const DEADLINE_INTEGRITY_PATCH = 'deadline-integrity';

/** The patch since which child workflow ids join their references with '.' (domain/ids.ts IdScheme). */
export const COLLISION_FREE_IDS_PATCH = 'collision-free-ids';

/** The patch since which completed assessments and held conferences carry their census duration (CensusWorkingDays). */
export const CENSUS_MEASURES_PATCH = 'census-measures';

/** The patch since which the second reading's procedure checks apply (R-29 .. R-46 of issue 18, the section-10 extensions). */
export const PROCEDURE_CHECKS_PATCH = 'procedure-checks';

/**
 * The patch since which a case keeps the `OpenPromptsDue` search attribute (every open
 * prompt's due time), which the prompt list pages by. Cases started before it replay
 * without it (an extra upsert would not match their histories) and are listed by their
 * `OpenPromptKinds` alone, after the prompts with a due time.
 */
export const OPEN_PROMPTS_DUE_PATCH = 'open-prompts-due';
/**
 * The patch since which a case keeps its open prompts, as the `openPrompts` query answers
 * them, in its memo (encrypted by the payload codec like any payload). The prompt list
 * reads a page's prompts from the visibility rows it already has instead of querying each
 * workflow: a query to a workflow outside the worker's cache replays its whole history.
 */
export const OPEN_PROMPTS_MEMO_PATCH = 'open-prompts-memo';
/** The patch since which outcomes start their follow-on (R-42 .. ): plans, trackers, consistency at sign-off. */
export const OUTCOMES_FOLLOW_ON_PATCH = 'outcomes-follow-on';
/**
 * Issue 13. The SDK records each `patched()` as a marker and an upsert of the
 * TemporalChangeVersion search attribute (a visibility write): a case started with all of
 * the patches above wrote seven of each before its first prompt (a referral eight). A case started since this
 * patch records this one marker, and every patch above holds for it. And its main loop
 * writes search attributes and memo once each time it settles, not on every turn, and keeps
 * the timer it armed for the next deadline instead of cancelling it and arming another on
 * every message.
 */
export const QUIET_ENGINE_PATCH = 'quiet-engine';

/**
 * Issue 13. The patch since which a workflow that offers a hand-over (`run`'s
 * `continueAsNew`) continues as new once its run's history passes CONTINUE_AS_NEW_AT. It is
 * checked only at that moment, so a run that never gets there records no marker; a run from
 * before the change that had passed the bound replays as it ran and continues at its next
 * live task.
 */
export const CONTINUE_AS_NEW_PATCH = 'continue-as-new';
