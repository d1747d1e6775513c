/**
 * Each rule's title and one line of its text (../shared/process-rules.md), for the pages:
 * a manager sees which rule asks a question and what it says, next to the question.
 */
export const ruleLines: Record<string, { title: string; line: string }> = {
  'R-1': { title: 'Duty decision', line: 'A duty manager decides how to respond to a referral within 1 working day, sooner with a child protection concern.' },
  'R-2': { title: 'Consent', line: "Parents' consent is sought before agencies are consulted; a manager may authorise sharing without it, with reasons." },
  'R-3': { title: 'Each child separately', line: 'Every child named in a referral is considered and assessed individually.' },
  'R-4': { title: 'Allocation decision', line: 'A manager allocates a social worker and records the track, the assessment type and the visit timescale.' },
  'R-5': { title: 'Timescale range', line: 'The completion timescale lies between 15 and 45 working days; 45 is the statutory maximum.' },
  'R-6': { title: 'Visit deadline', line: 'The child is seen within the visit timescale: 24 hours under section 47, working days under section 17.' },
  'R-7': { title: 'Not seen or delayed', line: 'If the child is not to be seen, or the visit will be late, the manager records the decision, its rationale and a new date.' },
  'R-8': { title: 'Seen alone', line: 'The child should be seen alone; if not, the reason is recorded. Every child in the household is seen.' },
  'R-9': { title: 'Who is involved', line: "Parents are seen and their views recorded; excluding a father needs a manager's agreement." },
  'R-10': { title: 'Interpreter', line: "An interpreter is provided where needed; not using one needs a manager's approval." },
  'R-11': { title: 'Not in education', line: 'A school-age child not attending education: the education welfare service is contacted.' },
  'R-12': { title: 'Crime', line: 'A suspected crime against the child: the police and the manager are told immediately.' },
  'R-13': { title: 'Significant harm', line: 'Reasonable cause to suspect significant harm leads to a strategy discussion.' },
  'R-14': { title: 'Early services', line: 'Needs found at any stage are referred to services at once.' },
  'R-15': { title: 'Supervision review', line: 'The work and its timescale are reviewed in supervision within 25 working days of the referral.' },
  'R-16': { title: 'Recording', line: 'Information is recorded within 2 working days of being received; later recording is flagged.' },
  'R-17': { title: 'Family not engaging', line: 'The assessment can be completed without the family when they decline; attempts are evidenced.' },
  'R-18': { title: 'Brief to complex', line: 'A line manager can extend a brief assessment to a complex one, up to 45 working days.' },
  'R-19': { title: 'Exceeding 45 days', line: "The line manager's agreement is sought before an assessment exceeds 45 working days; a breach escalates." },
  'R-20': { title: 'Pre-birth', line: 'For an unborn child the assessment is completed at least 4 weeks before the expected delivery date.' },
  'R-21': { title: 'Manager review checklist', line: 'Before sign-off the manager confirms each checklist item; an item not met needs a recorded reason.' },
  'R-22': { title: 'Determinations', line: 'The assessment records child in need, reasonable cause to suspect significant harm, and need for accommodation.' },
  'R-23': { title: 'Outcomes', line: 'The outcome is one of the listed outcomes, from no further action to emergency action.' },
  'R-24': { title: 'Sharing the outcome', line: 'The outcome is given in writing to the family and others unless that would put the child at risk.' },
  'R-25': { title: 'Review after completion', line: 'New information can reopen the judgement; a new decision is recorded on top.' },
  'R-26': { title: 'Strategy discussion', line: 'Held promptly with police and health at least; outcome: section 47 enquiry, no section 47, or emergency action.' },
  'R-27': { title: 'Section 47 enquiry', line: 'The child is seen within 24 hours; an initial child protection conference within 15 working days.' },
  'R-28': { title: '16 or 17 and homeless', line: 'A homeless 16 or 17 year old is assessed and section 20 accommodation considered.' },
};

/** What each kind of prompt asks, in a manager's words. */
export const promptKindTitles: Record<string, string> = {
  'duty-decision': 'Decide how to respond to the referral',
  'consent-override': 'Authorise sharing without consent',
  allocation: 'Allocate the assessment',
  'visit-overdue': 'The visit is overdue: decide what happens',
  'exclude-father': 'Agree to exclude a father',
  'interpreter-waiver': 'Approve working without an interpreter',
  'supervision-review': 'Supervision review',
  'extend-to-complex': 'Extend to a complex assessment',
  'exceed-timescale': 'Agree to exceed the timescale',
  'sign-off': 'Sign off the assessment',
  'strategy-discussion-outcome': 'Record the strategy discussion outcome',
  'section-47-outcome': 'Record the section 47 enquiry outcome',
  escalation: 'Escalation: a deadline was missed',
};
