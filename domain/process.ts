/**
 * What the workflows of one referral hand each other: the referral starts one assessment
 * per child; an assessment starts strategy discussions; a strategy discussion
 * starts a section 47 enquiry. Every child workflow gets the pinned policy and the
 * working calendar its parent loaded, so that deadlines agree across the family of workflows.
 */
import type { IdScheme } from './ids';
import type { AuthorityPolicy } from './policy';
import type { Child, ReferralInput } from './referral';
import type { WorkingCalendar } from './working-days';

export type Track = 'S17' | 'S47';
export type ConsentStatus = 'unknown' | 'given' | 'refused' | 'overridden';

/** Opaque context every workflow of the referral carries, for search attributes and notifications. */
export interface CaseContext {
  referralId: string;
  receivedAt: string;
  referrerType: ReferralInput['referrerType'];
  childProtectionConcern: boolean;
  team?: string;
  managerId?: string;
  localAuthority?: string;
  policy: AuthorityPolicy;
  calendar: WorkingCalendar;
  /**
   * How the case's workflow ids join their references, as the referral started it
   * (domain/ids.ts). Absent from inputs written before the collision-free-ids change: the
   * workflow then decides by patch, once, at its start.
   */
  idScheme?: IdScheme;
}

export interface AssessmentInput extends CaseContext {
  child: Child;
  /** From the duty decision: S47 when the manager called a strategy discussion at once. */
  track: Track;
  /** The duty decision was 'strategy-discussion': start one as soon as the assessment starts. */
  strategyDiscussionNow: boolean;
  consent: ConsentStatus;
  /** All children of the referral (R-8: every child in the household is seen). */
  householdChildRefs: string[];
  /** When the duty decision was taken (absent for cases started before it was passed on). */
  dutyDecidedAt?: string;
  /** R-3 (section 10): household children the referral lists but does not name for assessment (given to its first child's assessment, which asks about each). */
  otherHouseholdChildren?: Array<{ childRef: string; dateOfBirth?: string }>;
}

export interface AssessmentResult {
  childRef: string;
  stage: string;
  outcome?: string;
  completedAt?: string;
}

export interface StrategyDiscussionInput extends CaseContext {
  childRef: string;
  /** 1 for the first strategy discussion of this child, 2 for the next, ... */
  sequence: number;
  calledAt: string;
  /** The first strategy discussion's time, from which the conference deadline runs. */
  initialStrategyDiscussionAt?: string;
  /** the child is looked after (the residential or fostering service is invited). */
  lookedAfter?: boolean;
}

export interface Section47Result {
  outcome: 'not-substantiated' | 'child-in-need-plan' | 'initial-child-protection-conference';
  childSeenAt?: string;
  conferenceDueAt?: string;
  conferenceHeldAt?: string;
}

export interface StrategyDiscussionResult {
  outcome: 'section-47-enquiry' | 'no-section-47' | 'emergency-action';
  heldAt: string;
  section47?: Section47Result;
}

export interface Section47EnquiryInput extends CaseContext {
  childRef: string;
  sequence: number;
  startedAt: string;
  initialStrategyDiscussionAt: string;
  /** The child was seen after the strategy discussion was called, before this enquiry started (credited to it). */
  childSeenAt?: string;
}
