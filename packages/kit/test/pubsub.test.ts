import { describe, expect, it } from 'vitest';
import { createMemoryPubSub } from '../src/events/memory-pubsub.ts';
import { createPushIterator } from '../src/events/push-iterator.ts';

describe('push iterator', () => {
  it('delivers pushed values in order, queued or awaited', async () => {
    const { iterator, push } = createPushIterator<number>();
    push(1);
    expect(await iterator.next()).toEqual({ value: 1, done: false });
    const second = iterator.next();
    const third = iterator.next();
    push(2);
    push(3);
    // The first read took the queued value; the waiting ones get the rest in the order they asked.
    expect(await second).toEqual({ value: 2, done: false });
    expect(await third).toEqual({ value: 3, done: false });
  });

  it('ends a read that is waiting when the consumer returns, and releases the source once', async () => {
    let released = 0;
    const { iterator, push } = createPushIterator<number>(() => released++);
    const pending = iterator.next();
    await iterator.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    await iterator.return!();
    push(1);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(released).toBe(1);
  });

  it('hands out what was queued before ending, then the error', async () => {
    const channel = createPushIterator<number>();
    channel.push(1);
    channel.end(new Error('upstream gone'));
    expect(await channel.iterator.next()).toEqual({ value: 1, done: false });
    await expect(channel.iterator.next()).rejects.toThrow('upstream gone');
    expect(await channel.iterator.next()).toEqual({ value: undefined, done: true });
  });
});

describe('in-memory pub/sub', () => {
  it('delivers a message to every subscriber of its topic and none of another', async () => {
    const pubsub = createMemoryPubSub();
    const [a, b, other] = [pubsub.subscribe('t'), pubsub.subscribe('t'), pubsub.subscribe('u')];
    await Promise.all([a.ready, b.ready, other.ready]);
    await pubsub.publish('t', { n: 1 });
    expect((await a.next()).value).toEqual({ n: 1 });
    expect((await b.next()).value).toEqual({ n: 1 });
    const nothing = other.next();
    await pubsub.publish('u', { n: 2 });
    expect((await nothing).value).toEqual({ n: 2 });
  });

  it('stops delivering once a subscriber returns', async () => {
    const pubsub = createMemoryPubSub();
    const it1 = pubsub.subscribe('t');
    await it1.return!();
    await pubsub.publish('t', 1);
    expect(await it1.next()).toEqual({ value: undefined, done: true });
  });
});
