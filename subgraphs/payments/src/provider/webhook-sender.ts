/**
 * How the sandbox provider calls back, like a real provider would: a POST of the event's JSON,
 * signed (Campus-Signature), retried with backoff while the receiver fails or cannot be reached.
 *
 * What it owes is kept in the sandbox's own table, SandboxWebhookDelivery (written by sandbox.ts
 * with the intent or refund it reports), never in timers: a delivery scheduled for later (the
 * delayed card's success) survives a restart, and the next process, or another instance, sends
 * it when it is due. A poller claims due rows by setting `claimedUntil` (FOR UPDATE SKIP LOCKED
 * while claiming, so two instances never take the same row), sends them outside any transaction
 * (the receiver writes to this same database), then records the outcome. A sender that dies
 * mid-delivery leaves its claim to expire, and the row is sent again: at least once, which the
 * receiver's inbox deduplicates by event id.
 */
import type { Logger } from '@campus/kit/core';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { createPoller } from '@campus/kit/core';
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from '../webhooks/signature.ts';

export interface WebhookSenderOptions {
  prisma: PrismaClient;
  /** Resolved at delivery time; undefined while the receiver does not listen yet (nothing is sent then). */
  url: () => string | undefined;
  secret: string;
  logger: Logger;
  /** How often due rows are looked for without being told. */
  pollIntervalMs: number;
  /** Attempts before a delivery is given up (a real provider retries for days; the sandbox less). */
  maxAttempts?: number;
  /** How long a claimed row stays the claimer's before another sender may take it. */
  claimMs?: number;
}

export interface WebhookSender {
  /** Starts polling for due deliveries. */
  start(): void;
  /** Sends what is due now; resolves when done. */
  deliverDue(): Promise<void>;
  /** Sends what is due now, and looks again at `at` (a hint for deliveries scheduled later; the poll would find them anyway). */
  wakeAt(at: Date): void;
  /** Stops sending; undelivered rows stay for the next process. */
  close(): Promise<void>;
}

interface ClaimedRow {
  id: string;
  event: unknown;
  attempts: number;
}

const BATCH = 20;
const REQUEST_TIMEOUT_MS = 10_000;
const backoffMs = (attempts: number) => Math.min(100 * 2 ** attempts, 30_000);

export function webhookSender(options: WebhookSenderOptions): WebhookSender {
  const { prisma, logger } = options;
  const maxAttempts = options.maxAttempts ?? 8;
  const claimMs = options.claimMs ?? 30_000;
  const abort = new AbortController();
  const wakeTimers = new Set<NodeJS.Timeout>();
  let closed = false;

  async function claim(): Promise<ClaimedRow[]> {
    return prisma.$queryRaw<ClaimedRow[]>`
      UPDATE "SandboxWebhookDelivery" SET "claimedUntil" = now() + ${claimMs}::int * interval '1 millisecond', "attempts" = "attempts" + 1
       WHERE "id" IN (
         SELECT "id" FROM "SandboxWebhookDelivery"
          WHERE "deliveredAt" IS NULL AND "givenUpAt" IS NULL AND "dueAt" <= now()
            AND ("claimedUntil" IS NULL OR "claimedUntil" < now())
          ORDER BY "dueAt" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
       RETURNING "id", "event", "attempts"`;
  }

  async function deliver(row: ClaimedRow, url: string): Promise<void> {
    const body = typeof row.event === 'string' ? row.event : JSON.stringify(row.event);
    let status = 0;
    let problem: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: signWebhook(options.secret, body) },
        body,
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
      status = res.status;
      await res.body?.cancel();
      if (res.ok) {
        await prisma.sandboxWebhookDelivery.update({ where: { id: row.id }, data: { deliveredAt: new Date(), claimedUntil: null, lastError: null } });
        return;
      }
      problem = `HTTP ${status}`;
    } catch (err) {
      problem = String((err as Error).message).slice(0, 500);
      if (!closed) logger.warn({ err, eventId: row.id, attempt: row.attempts }, 'webhook delivery failed');
    }
    // A 4xx means the receiver refuses this delivery for good (e.g. a signature it cannot verify).
    if (status >= 400 && status < 500) {
      logger.error({ eventId: row.id, status }, 'webhook refused; not retrying');
      await prisma.sandboxWebhookDelivery.update({ where: { id: row.id }, data: { givenUpAt: new Date(), claimedUntil: null, lastError: problem } });
      return;
    }
    if (row.attempts >= maxAttempts) {
      logger.error({ eventId: row.id, attempts: row.attempts }, 'webhook undeliverable; giving up');
      await prisma.sandboxWebhookDelivery.update({ where: { id: row.id }, data: { givenUpAt: new Date(), claimedUntil: null, lastError: problem } });
      return;
    }
    await prisma.sandboxWebhookDelivery.update({
      where: { id: row.id },
      data: { dueAt: new Date(Date.now() + backoffMs(row.attempts)), claimedUntil: null, lastError: problem },
    });
  }

  async function run(): Promise<void> {
    for (;;) {
      const url = options.url();
      if (!url || closed) return;
      const rows = await claim();
      for (const row of rows) {
        if (closed) {
          // Not attempted: hand it back at once rather than after the claim expires.
          await prisma.sandboxWebhookDelivery.update({ where: { id: row.id }, data: { claimedUntil: null, attempts: { decrement: 1 } } });
          continue;
        }
        await deliver(row, url);
      }
      if (rows.length < BATCH) return;
    }
  }

  const poller = createPoller({ name: 'sandbox webhook delivery', intervalMs: options.pollIntervalMs, logger, run });

  return {
    start: () => poller.start(),
    deliverDue: () => poller.poke(),
    wakeAt(at) {
      void poller.poke();
      if (closed) return;
      const t = setTimeout(() => {
        wakeTimers.delete(t);
        void poller.poke();
      }, Math.max(0, at.getTime() - Date.now()) + 5);
      wakeTimers.add(t);
    },
    async close() {
      closed = true;
      for (const t of wakeTimers) clearTimeout(t);
      wakeTimers.clear();
      abort.abort();
      await poller.stop();
    },
  };
}
