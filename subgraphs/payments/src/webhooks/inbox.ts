/**
 * The webhook inbox: "answer fast, process durably" (docs/payments.md). The webhook stores each
 * verified event (its id is the primary key, so a duplicate delivery is recognised and stored
 * once) and answers 200 at once; this inbox then applies stored events, each in one transaction
 * with marking it processed. An event whose processing fails (say the database blipped) stays
 * unprocessed and is retried on the next poll, also after a restart, by any instance.
 */
import type { Logger } from '@campus/kit/core';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { createPoller } from '@campus/kit/core';
import { Prisma } from '../generated/prisma/client.ts';
import { applyProviderEvent, hasEffects, type Applied } from './apply-event.ts';
import { providerEvent, type ProviderEnvelope, type ProviderEvent } from './provider-event.ts';

export interface InboxOptions {
  prisma: PrismaClient;
  logger: Logger;
  pollIntervalMs: number;
  /** Called after a transaction that changed something committed (payments, the outbox, a refund to request). */
  onApplied: (applied: Applied) => Promise<void>;
}

export interface Inbox {
  /** Stores a verified event; false when an event with this id was stored before (a duplicate). */
  receive(event: ProviderEnvelope): Promise<boolean>;
  /** Processes what is stored and not yet processed; resolves when done. */
  drain(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

const BATCH = 50;

export function webhookInbox(options: InboxOptions): Inbox {
  const { prisma, logger } = options;

  /** Applies one event; null when another instance has it or it was processed meanwhile. */
  async function processOne(id: string): Promise<Applied | null> {
    return prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT "id" FROM "ProviderEvent" WHERE "id" = ${id} AND "processedAt" IS NULL FOR UPDATE SKIP LOCKED`;
      if (locked.length === 0) return null;
      const row = await tx.providerEvent.findUniqueOrThrow({ where: { id } });
      const parsed = providerEvent.safeParse(row.payload);
      const applied: Applied = parsed.success
        ? await applyProviderEvent(tx, { ...(parsed.data as ProviderEvent), id: row.id, created: (row.payload as { created: number }).created })
        : { changed: [], outbox: false, note: `ignored: ${row.type} is not an event this service acts on, or its object is malformed` };
      await tx.providerEvent.update({
        where: { id },
        data: { processedAt: new Date(), attempts: { increment: 1 }, lastError: applied.note ?? null },
      });
      return applied;
    });
  }

  /** One batch; returns how many events it looked at and how many it got through. */
  async function drainOnce(): Promise<{ seen: number; done: number }> {
    const pending = await prisma.providerEvent.findMany({
      where: { processedAt: null },
      orderBy: [{ attempts: 'asc' }, { receivedAt: 'asc' }],
      take: BATCH,
      select: { id: true },
    });
    let done = 0;
    for (const { id } of pending) {
      try {
        const applied = await processOne(id);
        done += 1;
        if (hasEffects(applied)) await options.onApplied(applied);
      } catch (err) {
        logger.error({ err, providerEventId: id }, 'processing a provider event failed; will retry');
        await prisma.providerEvent
          .update({ where: { id }, data: { attempts: { increment: 1 }, lastError: String((err as Error).message).slice(0, 1000) } })
          .catch(() => undefined);
      }
    }
    return { seen: pending.length, done };
  }

  // One run at a time, on every poll and on request (a webhook just stored an event).
  const poller = createPoller({
    name: 'processing the webhook inbox',
    intervalMs: options.pollIntervalMs,
    logger,
    async run() {
      // A full batch may mean more are waiting; what failed waits for the next poll, so a batch of
      // failures does not spin.
      for (;;) {
        const { seen, done } = await drainOnce();
        if (seen < BATCH || done === 0) break;
      }
    },
  });

  return {
    async receive(event) {
      try {
        await prisma.providerEvent.create({
          data: { id: event.id, type: event.type, payload: event as unknown as Prisma.InputJsonValue },
        });
        return true;
      } catch (e) {
        if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') return false;
        throw e;
      }
    },
    drain: poller.poke,
    start: poller.start,
    stop: poller.stop,
  };
}
