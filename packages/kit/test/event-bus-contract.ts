/**
 * What every EventBus promises (event-bus.ts), run against the in-process bus (unit) and the Redis
 * Streams bus (integration, with TEST_REDIS_URL). Same behaviour on both is what lets the embedded
 * default stand in for production. `makeBus` returns a bus of its own (its own dead letters).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it, vi } from 'vitest';
import { domainEvent, type DomainEvent, type EventBus } from '../src/events/event-bus.ts';

export interface ContractBusOptions {
  maxDeliveries?: number;
}

export function eventBusContract(makeBus: (options?: ContractBusOptions) => EventBus) {
  const buses: EventBus[] = [];
  const open = (options?: ContractBusOptions) => {
    const bus = makeBus(options);
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

  it('gives up on an event after maxDeliveries failures: a dead letter with the last error, for that group only', async () => {
    const bus = open({ maxDeliveries: 3 });
    const type = `Thing${randomUUID().slice(0, 8)}`;
    let calls = 0;
    const handled: DomainEvent[] = [];
    await bus.consume('poisoned', [type], async (e) => {
      if (e.payload.poison) {
        calls += 1;
        throw new Error(`refused, attempt ${calls}`);
      }
      handled.push(e);
    });
    const healthy = recorder();
    await bus.consume('healthy', [type], healthy.handler);
    const poison = domainEvent(type, { poison: true });
    await bus.publish(poison);
    await bus.publish(domainEvent(type, { n: 2 }));

    await vi.waitUntil(async () => (await bus.deadLetterCount()) === 1, { timeout: 20_000, interval: 20 }); // three failed deliveries
    expect(calls).toBe(3);
    const [letter, ...more] = await bus.deadLetters();
    expect(more).toEqual([]);
    expect(letter).toMatchObject({ event: poison, group: 'poisoned', error: 'refused, attempt 3', deliveries: 3 });
    expect(typeof letter!.id).toBe('string');
    expect(Number.isNaN(Date.parse(letter!.deadAt))).toBe(false);
    // Not retried any more: a later event is handled and the poison is not offered again meanwhile.
    await bus.publish(domainEvent(type, { n: 3 }));
    await vi.waitUntil(() => handled.length === 2, { timeout: 10_000, interval: 20 }); // later deliveries
    expect(calls).toBe(3);
    await vi.waitUntil(() => healthy.seen.length === 3, { timeout: 10_000, interval: 20 }); // the other group's deliveries
    expect(healthy.seen.map((e) => e.id)).toContain(poison.id);
    expect(await bus.deadLetters({ group: 'healthy' })).toEqual([]);
  });

  it('replays a dead letter to its own group only, once, with a fresh count, and removes it', async () => {
    const bus = open({ maxDeliveries: 2 });
    const type = `Thing${randomUUID().slice(0, 8)}`;
    let broken = true;
    const fixed: DomainEvent[] = [];
    await bus.consume('fragile', [type], async (e) => {
      if (broken) throw new Error('schema out of date');
      fixed.push(e);
    });
    const other = recorder();
    await bus.consume('other', [type], other.handler);
    const event = domainEvent(type, { n: 1 });
    await bus.publish(event);
    await vi.waitUntil(async () => (await bus.deadLetterCount()) === 1, { timeout: 20_000, interval: 20 }); // dead letter
    await vi.waitUntil(() => other.seen.length === 1, { timeout: 10_000, interval: 20 }); // the other group's delivery

    broken = false;
    expect(await bus.replayDeadLetters({ group: 'other' })).toBe(0);
    expect(await bus.replayDeadLetters({ group: 'fragile' })).toBe(1);
    expect(await bus.replayDeadLetters({ group: 'fragile' })).toBe(0);
    await vi.waitUntil(() => fixed.length === 1, { timeout: 10_000, interval: 20 }); // replayed delivery
    expect(fixed[0]).toEqual(event);
    expect(await bus.deadLetterCount()).toBe(0);
    // The other group handled it already and does not get it again: a later event arrives alone.
    const later = domainEvent(type, { n: 2 });
    await bus.publish(later);
    await vi.waitUntil(() => other.seen.length === 2, { timeout: 10_000, interval: 20 }); // later delivery
    expect(other.seen.map((e) => e.id)).toEqual([event.id, later.id]);
    await vi.waitUntil(() => fixed.length === 2, { timeout: 10_000, interval: 20 }); // later delivery
    expect(fixed.map((e) => e.id)).toEqual([event.id, later.id]);
  });

  it('lists dead letters newest first, by group and up to a limit, and replays the ones named', async () => {
    const bus = open({ maxDeliveries: 1 });
    const type = `Thing${randomUUID().slice(0, 8)}`;
    const healed = new Set<string>();
    const replayedTo: string[] = [];
    for (const group of ['x', 'y']) {
      await bus.consume(group, [type], async (e) => {
        if (!healed.has(e.id)) throw new Error(`${group} failed`);
        replayedTo.push(`${group}:${e.payload.n}`);
      });
    }
    const first = domainEvent(type, { n: 1 });
    const second = domainEvent(type, { n: 2 });
    await bus.publish(first);
    await bus.publish(second);
    await vi.waitUntil(async () => (await bus.deadLetterCount()) === 4, { timeout: 20_000, interval: 20 }); // four dead letters

    expect(await bus.deadLetters()).toHaveLength(4);
    const ofX = await bus.deadLetters({ group: 'x' });
    expect(ofX.map((d) => [d.group, d.event.id, d.error, d.deliveries])).toEqual([
      ['x', second.id, 'x failed', 1],
      ['x', first.id, 'x failed', 1],
    ]);
    expect((await bus.deadLetters({ group: 'x', limit: 1 })).map((d) => d.event.id)).toEqual([second.id]);
    expect(await bus.deadLetters({ group: 'nobody' })).toEqual([]);

    healed.add(first.id);
    const firstOfX = ofX[1]!.id;
    expect(await bus.replayDeadLetters({ ids: [firstOfX], group: 'y' })).toBe(0);
    expect(await bus.replayDeadLetters({ ids: [firstOfX, '1-0'] })).toBe(1);
    await vi.waitUntil(() => replayedTo.length === 1, { timeout: 10_000, interval: 20 }); // replayed delivery
    expect(replayedTo).toEqual(['x:1']);
    expect(await bus.deadLetterCount()).toBe(3);
    expect((await bus.deadLetters({ group: 'x' })).map((d) => d.event.id)).toEqual([second.id]);
  });
}
