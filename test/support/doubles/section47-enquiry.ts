/**
 * TEST DOUBLE, not product code: stands in for the section 47 enquiry workflow (another
 * engineer's work) so that the assessment's tests can see the field events forwarded to it.
 */
import { condition, defineQuery, setHandler } from '@temporalio/workflow';
import type { DomainEvent } from '../../../domain/events';
import { eventSignal } from '../../../workflows/messages';

export const receivedEventsQuery = defineQuery<DomainEvent[]>('testDoubleReceivedEvents');

export async function section47EnquiryDouble(): Promise<void> {
  const received: DomainEvent[] = [];
  setHandler(eventSignal, (event) => {
    received.push(event);
  });
  setHandler(receivedEventsQuery, () => received);
  await condition(() => false);
}
