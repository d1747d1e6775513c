import { describe, expect, it } from 'vitest';
import { caseWorkflowIdSchema, promptIdSchema, safeWorkflowIdOfPrompt } from '../../api/ids';
import {
  assessmentWorkflowId,
  childRefSchema,
  ID_SEPARATOR,
  promptIdFor,
  referralIdSchema,
  referralWorkflowId,
  section47EnquiryWorkflowId,
  strategyDiscussionWorkflowId,
  workflowIdOfPrompt,
} from '../../domain/ids';

describe('case workflow ids (issue: ids that cannot collide)', () => {
  it('gives referral REF-1 with child 2-C3 and referral REF-1-2 with child C3 different ids, which the hyphenated ids did not', () => {
    expect(assessmentWorkflowId('REF-1', '2-C3', 'hyphenated')).toBe('assessment-REF-1-2-C3');
    expect(assessmentWorkflowId('REF-1-2', 'C3', 'hyphenated')).toBe('assessment-REF-1-2-C3');

    expect(assessmentWorkflowId('REF-1', '2-C3')).toBe('assessment-REF-1.2-C3');
    expect(assessmentWorkflowId('REF-1-2', 'C3')).toBe('assessment-REF-1-2.C3');
    expect(strategyDiscussionWorkflowId('REF-1', '2-C3', 1)).not.toBe(strategyDiscussionWorkflowId('REF-1-2', 'C3', 1));
    expect(section47EnquiryWorkflowId('REF-1', '2-C3', 1)).not.toBe(section47EnquiryWorkflowId('REF-1-2', 'C3', 1));
    // The sequence is joined the same way: child 3-1 of REF-1 is not child 3's first discussion.
    expect(strategyDiscussionWorkflowId('REF-1', 'C-3-1', 2)).toBe('strategy-REF-1.C-3-1.2');
    expect(strategyDiscussionWorkflowId('REF-1', 'C-3', 12)).toBe('strategy-REF-1.C-3.12');
    expect(section47EnquiryWorkflowId('REF-1', 'C-3', 1)).toBe('s47-REF-1.C-3.1');
  });

  it('joins with a character no reference may hold, so one id has one reading', () => {
    for (const schema of [referralIdSchema, childRefSchema]) {
      expect(schema.safeParse(`REF${ID_SEPARATOR}1`).success).toBe(false);
      expect(schema.safeParse('REF~1').success).toBe(false);
      expect(schema.safeParse('REF-1_2').success).toBe(true);
    }
    const id = strategyDiscussionWorkflowId('REF-1-2', '2-C3', 4);
    expect(id.slice('strategy-'.length).split(ID_SEPARATOR)).toEqual(['REF-1-2', '2-C3', '4']);
  });

  it('the API takes the workflow ids of both forms, and refuses anything else', () => {
    const valid = [
      referralWorkflowId('REF-4001'),
      assessmentWorkflowId('REF-4001', 'C-1'),
      assessmentWorkflowId('REF-4001', 'C-1', 'hyphenated'),
      strategyDiscussionWorkflowId('REF-4001', 'C-1', 2),
      strategyDiscussionWorkflowId('REF-4001', 'C-1', 2, 'hyphenated'),
      section47EnquiryWorkflowId('REF-4001', 'C-1', 1),
      section47EnquiryWorkflowId('REF-4001', 'C-1', 1, 'hyphenated'),
    ];
    for (const id of valid) expect(caseWorkflowIdSchema.safeParse(id).success, id).toBe(true);
    const invalid = ['assessment-REF-1..C-1', 'assessment-.REF-1', 'assessment-REF-1.', 'strategy-REF-1.C-1.1.2', 'case-REF-1.C-1', 'assessment-REF 1.C-1', 'assessment-REF-1~C-1'];
    for (const id of invalid) expect(caseWorkflowIdSchema.safeParse(id).success, id).toBe(false);
  });

  it('finds the workflow of a prompt of either form', () => {
    for (const workflowId of [assessmentWorkflowId('REF-1-2', 'C3'), assessmentWorkflowId('REF-1-2', 'C3', 'hyphenated'), strategyDiscussionWorkflowId('REF-1', 'C-1', 1), referralWorkflowId('REF-1')]) {
      const promptId = promptIdFor(workflowId, 'duty-decision', 3);
      expect(promptIdSchema.safeParse(promptId).success, promptId).toBe(true);
      expect(workflowIdOfPrompt(promptId)).toBe(workflowId);
      expect(safeWorkflowIdOfPrompt(promptId)).toBe(workflowId);
    }
    expect(safeWorkflowIdOfPrompt('assessment-REF-1..C3~allocation-1')).toBeUndefined();
  });
});
