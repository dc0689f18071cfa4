import { createMemoryPubSub } from '@campus/kit/events';
import { describe, expect, it } from 'vitest';
import { filterMap } from '@campus/courses/event-stream';

describe('filterMap', () => {
  it('maps messages, skips the ones mapped to undefined, and unsubscribes when closed', async () => {
    const pubsub = createMemoryPubSub();
    const source = pubsub.subscribe<number>('t');
    const stream = filterMap(source, async (n) => (n % 2 === 0 ? n * 10 : undefined));
    await pubsub.publish('t', 1);
    await pubsub.publish('t', 2);
    await pubsub.publish('t', 3);
    await pubsub.publish('t', 4);
    expect((await stream.next()).value).toBe(20);
    expect((await stream.next()).value).toBe(40);
    const pending = stream.next();
    await stream.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await source.next()).toEqual({ value: undefined, done: true });
    await pubsub.close();
  });
});
