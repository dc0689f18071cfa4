/**
 * What every EventBus promises (event-bus.ts), run against the in-process bus (unit) and the Redis
 * Streams bus (integration, with TEST_REDIS_URL). Same behaviour on both is what lets the embedded
 * default stand in for production.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it, vi } from 'vitest';
import { domainEvent, type DomainEvent, type EventBus } from '../src/events/event-bus.ts';

export function eventBusContract(makeBus: () => EventBus) {
  const buses: EventBus[] = [];
  const open = () => {
    const bus = makeBus();
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  const recorder = () => {
    const seen: DomainEvent[] = [];
    return { seen, handler: async (e: DomainEvent) => void seen.push(e) };
  };

  it('delivers every event to every group, and each event to one consumer of a group', async () => {
    const bus = open();
    const type = `Thing${randomUUID().slice(0, 8)}`;
    const a1 = recorder();
    const a2 = recorder();
    const b = recorder();
    await bus.consume('a', [type], a1.handler);
    await bus.consume('a', [type], a2.handler);
    await bus.consume('b', [type], b.handler);
    for (let i = 0; i < 10; i++) await bus.publish(domainEvent(type, { i }));

    await vi.waitUntil(() => b.seen.length === 10 && a1.seen.length + a2.seen.length === 10, { timeout: 10_000, interval: 20 }); // all deliveries
    const aIds = [...a1.seen, ...a2.seen].map((e) => e.payload.i).sort((x, y) => Number(x) - Number(y));
    expect(aIds).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(b.seen.map((e) => e.payload.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('carries the event as JSON: id, type, occurredAt and payload arrive intact', async () => {
    const bus = open();
    const type = `Thing${randomUUID().slice(0, 8)}`;
    const r = recorder();
    await bus.consume('g', [type], r.handler);
    const event = domainEvent(type, { paymentId: randomUUID(), nested: { amount: 4900, currency: 'EUR' } });
    await bus.publish(event);
    await vi.waitUntil(() => r.seen.length === 1, { timeout: 10_000, interval: 20 }); // delivery
    expect(r.seen[0]).toEqual(event);
  });

  it('only hands a consumer the types it asked for', async () => {
    const bus = open();
    const wanted = `Wanted${randomUUID().slice(0, 8)}`;
    const other = `Other${randomUUID().slice(0, 8)}`;
    const r = recorder();
    await bus.consume('g', [wanted], r.handler);
    await bus.publish(domainEvent(other, {}));
    await bus.publish(domainEvent(wanted, {}));
    await vi.waitUntil(() => r.seen.length === 1, { timeout: 10_000, interval: 20 }); // delivery
    expect(r.seen.map((e) => e.type)).toEqual([wanted]);
  });

  it('holds events for a group that stopped consuming and delivers them when it is back', async () => {
    const bus = open();
    const type = `Thing${randomUUID().slice(0, 8)}`;
    const before = recorder();
    const stop = await bus.consume('courses', [type], before.handler);
    await bus.publish(domainEvent(type, { n: 1 }));
    await vi.waitUntil(() => before.seen.length === 1, { timeout: 10_000, interval: 20 }); // first delivery
    await stop();

    await bus.publish(domainEvent(type, { n: 2 }));
    await bus.publish(domainEvent(type, { n: 3 }));
    expect(before.seen).toHaveLength(1);

    const after = recorder();
    await bus.consume('courses', [type], after.handler);
    await vi.waitUntil(() => after.seen.length === 2, { timeout: 10_000, interval: 20 }); // held deliveries
    expect(after.seen.map((e) => e.payload.n)).toEqual([2, 3]);
  });

  it('gives a group created after publishing the events published before it', async () => {
    const bus = open();
    const type = `Thing${randomUUID().slice(0, 8)}`;
    await bus.publish(domainEvent(type, { n: 1 }));
    const r = recorder();
    await bus.consume('late', [type], r.handler);
    await vi.waitUntil(() => r.seen.length === 1, { timeout: 10_000, interval: 20 }); // retained delivery
  });

  it('delivers an event again when the handler throws, until it succeeds, without blocking others', async () => {
    const bus = open();
    const type = `Thing${randomUUID().slice(0, 8)}`;
    let failures = 0;
    const handled: number[] = [];
    await bus.consume('flaky', [type], async (e) => {
      if (e.payload.n === 1 && failures < 2) {
        failures += 1;
        throw new Error('database unavailable');
      }
      handled.push(e.payload.n as number);
    });
    await bus.publish(domainEvent(type, { n: 1 }));
    await bus.publish(domainEvent(type, { n: 2 }));
    await vi.waitUntil(() => handled.includes(1), { timeout: 20_000, interval: 20 }); // redelivery after two failures
    expect(failures).toBe(2);
    expect(handled.sort()).toEqual([1, 2]);
  });
}
