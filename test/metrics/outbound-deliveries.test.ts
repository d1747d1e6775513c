import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type Notification } from '../../activities';
import { engineRegistry } from '../../common/metrics';
import { total } from '../support/prometheus';

/**
 * Issue 16: `assessments_outbound_deliveries_total` counts every delivery attempt in the
 * worker's process, by outcome, channel and whether the activity was retrying. The
 * activities run as the worker runs them (an activity context with its attempt number).
 */
const DELIVERIES = 'assessments_outbound_deliveries_total';
const SECRET = 'a-webhook-secret-for-tests';

let receiver: Server;
let url: string;
/** The receiver's answers, in order: a receiver down, then back. */
const answers: number[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume().on('end', () => res.writeHead(answers.shift() ?? 200).end());
  });
  await new Promise<void>((ready) => receiver.listen(0, '127.0.0.1', ready));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise((done) => receiver.close(done)));

const notification: Notification = { recipient: 'manager', reason: 'visit-overdue', rule: 'R-9', workflowId: 'assessment-METRICS-1', referralId: 'METRICS-1', idempotencyKey: 'metrics-1' };
/** An activity context on its `attempt`th try; the failure the test provokes is not logged. */
const attemptNo = (attempt: number) => new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') });
const count = async (labels: Record<string, string>) => total(await engineRegistry.metrics(), DELIVERIES, labels);

describe('outbound deliveries counter', () => {
  it('counts a failed attempt, then the retry that delivers, by channel', async () => {
    const activities = createActivities({ outbound: { webhookUrl: url, webhookSecret: SECRET, outboxDir: mkdtempSync(join(tmpdir(), 'outbox-')) } });
    const failed = { outcome: 'failed', channel: 'notification', attempt: 'first' };
    const retried = { outcome: 'delivered', channel: 'notification', attempt: 'retry' };
    const [failedBefore, retriedBefore] = [await count(failed), await count(retried)];

    answers.push(503);
    await expect(attemptNo(1).run(activities.notify, notification)).rejects.toThrow('webhook answered 503');
    expect(await count(failed)).toBe(failedBefore + 1);

    await expect(attemptNo(2).run(activities.notify, notification)).resolves.toBe('webhook');
    expect(await count(retried)).toBe(retriedBefore + 1);
    expect(await count(failed)).toBe(failedBefore + 1);
  });

  it('counts a first-time delivery to the local outbox as delivered on its own channel', async () => {
    const activities = createActivities({ outbound: { outboxDir: mkdtempSync(join(tmpdir(), 'outbox-')) } });
    const delivered = { outcome: 'delivered', channel: 'case-record', attempt: 'first' };
    const before = await count(delivered);
    const record = { kind: 'decision', workflowId: 'assessment-METRICS-2', referralId: 'METRICS-2', data: {}, idempotencyKey: 'metrics-2' };
    await expect(attemptNo(1).run(activities.recordToCaseSystem, record)).resolves.toBe('outbox');
    expect(await count(delivered)).toBe(before + 1);
    // No label carries an id: the text names none of this case's references.
    expect(await engineRegistry.getSingleMetricAsString(DELIVERIES)).not.toMatch(/METRICS-|metrics-\d/);
  });
});
