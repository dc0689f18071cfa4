/** What the domain functions (authoring, curriculum, enrollments, progress, fulfillment) work with. */
import type { Logger } from '@campus/kit/core';
import type { EventBus } from '@campus/kit/events';
import { Prisma, type PrismaClient } from './generated/prisma/client.ts';
import type { LiveUpdates } from './live-updates.ts';

export interface CoursesDomain {
  prisma: PrismaClient;
  live: LiveUpdates;
  /** Called after a transaction that wrote outbox rows commits: wakes the relay (no-op without a bus). */
  outboxCommitted(): void;
  /**
   * Call after committing a change anonymous catalog readers would see (a course's details or
   * status, its curriculum, its enrollment count): the router's cached catalog answers are not
   * served again once this resolves (packages/kit/src/events/catalog-generation.ts).
   */
  catalogChanged(): Promise<void>;
  /** The event bus, when there is one (its dead letters are an admin's view, dead-letters.ts). */
  bus?: EventBus | undefined;
  logger: Logger;
}

export const isUniqueViolation = (e: unknown) =>
  e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002';

/**
 * Runs `fn` again when it lost a race on a unique index (two concurrent first enrollments, two
 * courses claiming a slug): the second run sees the winner's row and takes the "already there" path.
 */
export async function retryOnUniqueViolation<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isUniqueViolation(e) || attempt >= attempts) throw e;
    }
  }
}
