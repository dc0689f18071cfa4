import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../src/core/logger.ts';
import { consumeEvents, EVENT_PAYLOADS, EVENTS } from '../src/events/contracts.ts';
import { domainEvent, type DomainEvent } from '../src/events/event-bus.ts';
import { createMemoryEventBus } from '../src/events/memory-bus.ts';

const payment = { paymentId: 'p1', userId: randomUUID(), courseId: randomUUID(), amount: 4999, currency: 'USD' };

describe('event contracts', () => {
  it('accepts what the producers write and refuses payloads without the ids consumers rely on', () => {
    expect(EVENT_PAYLOADS.PaymentSucceeded.safeParse(payment).success).toBe(true);
    expect(EVENT_PAYLOADS.PaymentRefunded.safeParse({ ...payment, refundId: 'r1' }).success).toBe(true);
    expect(EVENT_PAYLOADS.PaymentSucceeded.safeParse({ ...payment, userId: 'not-a-uuid' }).success).toBe(false);
    expect(EVENT_PAYLOADS.CourseUpdated.safeParse({ courseId: payment.courseId }).success).toBe(false);
  });

  it('hands a handler only valid events, and drops a malformed one without stopping the consumer', async () => {
    const bus = createMemoryEventBus({ retryDelayMs: () => 10 });
    const handled: DomainEvent[] = [];
    const logger = createLogger('test', 'silent');
    const dropped = vi.spyOn(logger, 'error');
    const stop = await consumeEvents(bus, 'test', { PaymentSucceeded: async (e) => void handled.push(e) }, logger);
    await bus.publish(domainEvent(EVENTS.PaymentSucceeded, { ...payment, userId: 'not-a-uuid' }));
    await bus.publish(domainEvent(EVENTS.PaymentSucceeded, payment));
    await vi.waitFor(() => expect(handled).toHaveLength(1));
    expect(handled[0]!.payload).toMatchObject(payment);
    expect(dropped).toHaveBeenCalledWith(expect.objectContaining({ type: 'PaymentSucceeded' }), 'dropping a malformed event');
    await stop();
    await bus.close();
  });
});
