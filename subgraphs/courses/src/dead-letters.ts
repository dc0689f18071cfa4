/**
 * The admin's view of the event bus's dead letters (docs/delivery.md): events a consumer group
 * failed to handle `EVENTS_MAX_DELIVERIES` times, set aside so they stop being retried. The store is
 * the bus's, shared by every service on it, so courses lists and replays them for all consumers.
 * Without a bus (courses alone, without REDIS_URL) there is nothing to list.
 *
 * A replay is audited (`courses.dead_letters.replayed`). It changes the bus, not this database, so
 * there is no transaction to share: the AuditRecorded row is written to the outbox right after the
 * bus answered. A crash in between replays without an entry; a failed write fails the mutation
 * (the replay itself stands, and replaying again skips what is no longer a dead letter).
 */
import { badUserInput, parseInput } from '@campus/kit/core';
import type { DeadLetter, EventBus } from '@campus/kit/events';
import type { Viewer } from '@campus/kit/identity';
import type { CoursesDomain } from './domain.ts';
import { recordAudit } from './outbox.ts';
import { z } from 'zod';

export interface EventDeadLetterView {
  id: string;
  eventId: string;
  type: string;
  consumer: string;
  error: string;
  deliveries: number;
  deadAt: string;
  payload: string;
}

const replayInput = z.object({
  ids: z.array(z.string().min(1).max(100)).max(1000).nullish(),
  consumer: z.string().max(100).nullish(),
});

const view = (letter: DeadLetter): EventDeadLetterView => ({
  id: letter.id,
  eventId: letter.event.id,
  type: letter.event.type,
  consumer: letter.group,
  error: letter.error,
  deliveries: letter.deliveries,
  deadAt: letter.deadAt,
  payload: JSON.stringify(letter.event.payload),
});

export async function listDeadLetters(
  bus: EventBus | undefined,
  { first, consumer }: { first?: number | null; consumer?: string | null },
): Promise<EventDeadLetterView[]> {
  if (first != null && (first < 1 || first > 100)) throw badUserInput('first', 'first: must be between 1 and 100.');
  if (!bus) return [];
  const letters = await bus.deadLetters({ limit: first ?? 20, ...(consumer ? { group: consumer } : {}) });
  return letters.map(view);
}

/** Ids named in the audit entry, at most: the count says how many there were. */
const AUDITED_IDS = 50;

export async function replayDeadLetters(domain: Pick<CoursesDomain, 'bus' | 'prisma' | 'outboxCommitted'>, actor: Viewer, input: unknown): Promise<number> {
  const { ids, consumer } = parseInput(replayInput, input);
  if (ids && ids.length === 0) throw badUserInput('input.ids', 'input.ids: give at least one id, or leave it out to replay every dead letter.');
  const replayed = domain.bus ? await domain.bus.replayDeadLetters({ ...(ids ? { ids } : {}), ...(consumer ? { group: consumer } : {}) }) : 0;
  await domain.prisma.$transaction((tx) =>
    recordAudit(tx, actor, 'courses.dead_letters.replayed', consumer ?? null, {
      replayed,
      consumer: consumer ?? null,
      requested: ids ? ids.length : 'all',
      ids: ids ? ids.slice(0, AUDITED_IDS).join(',') : null,
      role: actor.role,
    }),
  );
  domain.outboxCommitted();
  return replayed;
}
