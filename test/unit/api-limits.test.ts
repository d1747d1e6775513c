import { ServiceError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../api/errors';
import { translateWorkflowError } from '../../api/routes/events';

/** What the client throws when the server refuses an update call: a ServiceError around the gRPC error. */
function grpcRefusal(code: number, details: string): ServiceError {
  const grpc = Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  return new ServiceError('Workflow Update failed', { cause: grpc });
}

const client = undefined as unknown as Client; // only a missing workflow is described
const translate = (error: unknown) => translateWorkflowError(client, error, 'assessment-REF-1.C-1');

describe('translateWorkflowError: limits answer 429 or 503 with a reason, never 500', () => {
  it("maps the workflow's own write limits (nothing written) to 429 with when to retry, or 503", async () => {
    const rate = await translate(new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.nonRetryable('120 events in the last hour', 'too-many-events', { limit: 120, retryAfterSeconds: 1800 })));
    expect(rate).toBeInstanceOf(HttpError);
    expect(rate).toMatchObject({ status: 429, code: 'too-many-events', extra: { limit: 120, retryAfterSeconds: 1800 } });
    const run = await translate(new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.nonRetryable('1000 events', 'event-limit-reached', { limit: 1000 })));
    expect(run).toMatchObject({ status: 503, code: 'event-limit-reached', extra: { limit: 1000 } });
    const full = await translate(new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.nonRetryable('near the limit', 'history-full', { historyEvents: 41_000, historyBytes: 1 })));
    expect(full).toMatchObject({ status: 503, code: 'history-full', message: 'near the limit' });
  });

  it("maps Temporal's per-run limits: updates in flight → 429, updates used up or history too large → 503", async () => {
    const inFlight = await translate(grpcRefusal(8, 'limit on number of concurrent in-flight updates has been reached (10)'));
    expect(inFlight).toMatchObject({ status: 429, code: 'temporal-busy', extra: { retryAfterSeconds: 1 } });
    expect((inFlight as HttpError).message).toMatch(/in-flight updates/);
    const total = await translate(grpcRefusal(9, 'limit on number of total updates has been reached (2000)'));
    expect(total).toMatchObject({ status: 503, code: 'case-write-limit' });
    expect((total as HttpError).message).toMatch(/total updates.*operations must continue the case/);
    const size = await translate(grpcRefusal(9, 'history size exceeds error limit.'));
    expect(size).toMatchObject({ status: 503, code: 'case-write-limit' });
    // The bare gRPC error (e.g. from a call that does not wrap it) is recognised too.
    expect(await translate((grpcRefusal(8, 'namespace rate limit exceeded').cause))).toMatchObject({ status: 429 });
  });

  it('leaves other errors as they were (the error handler answers them)', async () => {
    const other = grpcRefusal(9, 'something else entirely');
    expect(await translate(other)).toBe(other);
    const refused = await translate(new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.nonRetryable('does not fit', 'event-refused', { reason: 'does not fit', rule: 'R-21' })));
    expect(refused).toMatchObject({ status: 422, code: 'event-refused', extra: { rule: 'R-21' } });
  });
});
