/**
 * Pub/sub for GraphQL subscriptions (docs/subscriptions.md): a subgraph publishes to a topic,
 * every subscriber of that topic on every instance receives it. In memory on the embedded default;
 * Redis pub/sub when REDIS_URL is set (see redis-pubsub.ts and create-pubsub.ts).
 *
 * In a subscription resolver, prefer `subscribe: (_, args, ctx) => listen(ctx.pubsub, topic)`:
 * with Redis, SUBSCRIBE is acknowledged asynchronously, and a message published before that is
 * lost. `listen` resolves once the subscription is live, so by the time graphql-ws starts the
 * operation, anything published afterwards is delivered.
 */
export interface PubSubIterator<T> extends AsyncIterableIterator<T> {
  /** Resolves once every message published from now on will reach this iterator. */
  ready: Promise<void>;
}

export interface PubSub {
  /** Payloads must survive JSON (Redis carries them as JSON): no Dates, Maps or class instances. */
  publish(topic: string, payload: unknown): Promise<void>;
  /** An async iterator of the topic's messages; calling `return()` unsubscribes. */
  subscribe<T = unknown>(topic: string): PubSubIterator<T>;
  close(): Promise<void>;
}

/** Subscribes and waits until the subscription is live (see above). */
export async function listen<T = unknown>(pubsub: PubSub, topic: string): Promise<PubSubIterator<T>> {
  const iterator = pubsub.subscribe<T>(topic);
  try {
    await iterator.ready;
  } catch (e) {
    await iterator.return?.();
    throw e;
  }
  return iterator;
}

/** Publishes one message; never throws, and never takes much longer than its timeout (see bestEffortPublisher). */
export type BestEffortPublish = (topic: string, payload: unknown, logFields?: Record<string, unknown>) => Promise<void>;

export interface BestEffortOptions {
  /** How long a publish may hold its caller up (default 250 ms); it is abandoned after that. */
  timeoutMs?: number;
  /** Where each publish's outcome is counted (the service's `campus_live_updates_published_total`). */
  counts?: LiveUpdateCounts;
}

/** How a live update's publish ended: accepted, refused by the pub/sub, or abandoned at the timeout. */
export type LiveUpdateOutcome = 'ok' | 'failed' | 'timed_out';

/**
 * Publishes by outcome, kept as plain numbers: a service creates them before its metrics registry
 * exists (its live updates are part of the domain the server is built from), and exposes them
 * once it does (delivery-metrics.ts, countLiveUpdates).
 */
export type LiveUpdateCounts = Record<LiveUpdateOutcome, number>;

export const liveUpdateCounts = (): LiveUpdateCounts => ({ ok: 0, failed: 0, timed_out: 0 });

/**
 * Publishing for live updates, which happens after the change it announces has committed: a
 * failure is logged and swallowed, since failing the caller then would only mislead it, and a
 * client that missed an update re-queries on reconnect. What must not be lost travels on the event
 * bus through an outbox, not here.
 *
 * Nor may it slow the caller down (docs/delivery.md): a mutation awaits this after its commit, and
 * a pub/sub that is down or slow would otherwise hold the answer up for as long as the client
 * library retries. The publish races `timeoutMs`; past it the caller goes on and the message is
 * given up on (it may still go out late, which subscribers tolerate: they re-read and skip what
 * they already sent). An outage is logged at warn once, when it starts, and once when publishing
 * works again, with how many messages were given up on meanwhile, not once per message.
 */
export function bestEffortPublisher(
  pubsub: PubSub,
  logger: { warn(obj: object, msg: string): void },
  { timeoutMs = 250, counts }: BestEffortOptions = {},
): BestEffortPublish {
  let lost = 0;
  return async (topic, payload, logFields = {}) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const published = pubsub.publish(topic, payload).then(
      () => 'published' as const,
      (err: unknown) => err,
    );
    const outcome = await Promise.race([published, timedOut]);
    clearTimeout(timer);
    if (counts) counts[outcome === 'published' ? 'ok' : outcome === 'timeout' ? 'timed_out' : 'failed'] += 1;
    if (outcome === 'published') {
      if (lost > 0) logger.warn({ lost, topic }, 'live updates are published again; some were lost meanwhile');
      lost = 0;
      return;
    }
    if (lost === 0) {
      const err = outcome === 'timeout' ? new Error(`no answer from the pub/sub within ${timeoutMs} ms`) : outcome;
      logger.warn({ err, topic, ...logFields }, 'could not publish a live update; giving up on live updates until the pub/sub answers again');
    }
    lost += 1;
  };
}
