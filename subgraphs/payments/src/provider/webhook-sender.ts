/**
 * How the sandbox provider calls back, like a real provider would: a POST of the event's JSON,
 * signed (Campus-Signature), retried with backoff while the receiver fails or cannot be reached.
 * Deliveries still scheduled when the provider closes are dropped, as a provider would lose
 * them if our endpoint vanished for good; a real provider keeps retrying for days.
 */
import type { Logger } from '@campus/kit/core';
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from '../webhooks/signature.ts';

export interface WebhookSenderOptions {
  /** Resolved at delivery time: the service's own address is known only once it listens. */
  url: () => string;
  secret: string;
  logger: Logger;
  maxAttempts?: number;
}

/** A provider event as sent: the receiver needs at least its id and type. */
export interface OutgoingEvent {
  id: string;
  type: string;
  [field: string]: unknown;
}

export interface WebhookSender {
  /** Delivers `event` after `delayMs` (0 = as soon as possible). */
  send(event: OutgoingEvent, delayMs?: number): void;
  close(): Promise<void>;
}

export function webhookSender(options: WebhookSenderOptions): WebhookSender {
  const maxAttempts = options.maxAttempts ?? 8;
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  const abort = new AbortController();
  let closed = false;

  const later = (fn: () => void, ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  async function deliver(event: OutgoingEvent, attempt: number): Promise<void> {
    if (closed) return;
    const body = JSON.stringify(event);
    let status = 0;
    try {
      const res = await fetch(options.url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: signWebhook(options.secret, body) },
        body,
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(10_000)]),
      });
      status = res.status;
      await res.body?.cancel();
      if (res.ok) return;
    } catch (err) {
      if (closed) return;
      options.logger.warn({ err, eventId: event.id, attempt }, 'webhook delivery failed');
    }
    // A 4xx means the receiver refuses this delivery for good (e.g. a signature it cannot verify).
    if (status >= 400 && status < 500) {
      options.logger.error({ eventId: event.id, status }, 'webhook refused; not retrying');
      return;
    }
    if (attempt >= maxAttempts) {
      options.logger.error({ eventId: event.id, attempts: attempt }, 'webhook undeliverable; giving up');
      return;
    }
    later(() => track(deliver(event, attempt + 1)), Math.min(100 * 2 ** attempt, 30_000));
  }

  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  return {
    send(event, delayMs = 0) {
      if (closed) return;
      later(() => track(deliver(event, 1)), delayMs);
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      abort.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
