import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createEventBus } from '../src/events/create-bus.ts';
import { domainEvent } from '../src/events/event-bus.ts';
import { createMemoryEventBus } from '../src/events/memory-bus.ts';
import { eventBusContract } from './event-bus-contract.ts';

describe('in-process event bus', () => {
  eventBusContract((options) => createMemoryEventBus({ retryDelayMs: () => 10, ...options }));
});

describe('createEventBus without Redis', () => {
  it('takes maxDeliveries and retryAfterMs, and logs each dead letter as an error', async () => {
    const lines: { level: number; msg: string; group?: string; deliveries?: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const bus = createEventBus({ logger: pino(sink), maxDeliveries: 2, retryAfterMs: 20 });
    try {
      let calls = 0;
      await bus.consume('courses', ['Thing'], async () => {
        calls += 1;
        throw new Error('no database');
      });
      await bus.publish(domainEvent('Thing', {}));
      await vi.waitUntil(async () => (await bus.deadLetterCount()) === 1, { timeout: 5_000, interval: 10 }); // two deliveries
      expect(calls).toBe(2);
      await vi.waitUntil(() => lines.some((l) => l.level === 50), { timeout: 5_000, interval: 10 }); // the log line
      expect(lines.find((l) => l.level === 50)).toMatchObject({ msg: expect.stringMatching(/dead letters/), group: 'courses', deliveries: 2 });
    } finally {
      await bus.close();
    }
  });
});
