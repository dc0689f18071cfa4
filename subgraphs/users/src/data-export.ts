/**
 * Data exports (docs/privacy.md): a copy of everything Campus holds about a user.
 *
 * Users orchestrates over the event bus. `requestDataExport` writes the export (PENDING) and a
 * `DataExportRequested` to the outbox in one transaction. Courses and payments each answer with
 * their part (`DataExportPartReady`, event-handlers.ts); users keeps the first part of each (a
 * redelivered request is answered again, and the copy changes nothing). When both are in, users
 * adds its own part, stores the document, marks the export READY and acknowledges the outbox row,
 * in one transaction under the export's row lock, so two instances receiving the last two parts at
 * once cannot both finish it. Until then the relay republishes the request (an acknowledged type).
 *
 * A READY export keeps its document for DATA_EXPORT_TTL_SECONDS; then the poller (service.ts)
 * purges it (EXPIRED, document null). Reads treat an export past its expiry as expired already.
 */
import { randomUUID } from 'node:crypto';
import { forbidden, notFound } from '@campus/kit/core';
import { acknowledgeOutboxEvent, EVENTS, type EventPayload } from '@campus/kit/events';
import type { Role } from '@campus/kit/identity';
import { isUuid } from '@campus/kit/subgraph';
import { appendAudit, usersAudit } from './audit-log.ts';
import type { UsersDomain } from './domain.ts';
import type { DataExport, Prisma, PrismaClient } from './generated/prisma/client.ts';
import { PARTICIPANTS, recordEvent } from './outbox.ts';

export interface Requester {
  id: string;
  role: Role;
}

/** Starts an export of `userId`'s data (the requester's own by default). Admins only for someone else. */
export async function requestDataExport(deps: UsersDomain, requester: Requester, userId?: string | null): Promise<DataExport> {
  const target = userId ?? requester.id;
  if (target !== requester.id && requester.role !== 'ADMIN') {
    throw forbidden("Only admins can export another user's data. Leave userId out to export your own.");
  }
  if (!isUuid(target)) throw notFound('User', target);
  const created = await deps.prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: target }, select: { status: true } });
    if (!user || user.status === 'ERASED') throw notFound('User', target);
    const id = randomUUID();
    const requestEventId = await recordEvent(tx, EVENTS.DataExportRequested, { exportId: id, userId: target });
    const row = await tx.dataExport.create({ data: { id, userId: target, requestedById: requester.id, requestEventId } });
    await appendAudit(tx, usersAudit(requester.id, 'users.data-export.request', target, { exportId: id }));
    return row;
  });
  deps.outboxCommitted();
  return created;
}

type PartEvent = EventPayload<'DataExportPartReady'>;

/**
 * Records a participant's part (the first one wins) and finishes the export when it was the last.
 * Returns the export when this call made it READY, so the caller tells the users after the commit.
 */
export async function recordExportPart(deps: UsersDomain, part: PartEvent): Promise<DataExport | null> {
  return deps.prisma.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT "id"::text AS "id" FROM "DataExport" WHERE "id" = ${part.exportId}::uuid FOR UPDATE`;
    const row = locked && (await tx.dataExport.findUnique({ where: { id: locked.id } }));
    if (!row || row.userId !== part.userId) {
      // Erased since (erasure.ts deletes a user's exports), or not ours: nothing to add it to.
      deps.logger.warn({ exportId: part.exportId, service: part.service }, 'data export part for an unknown export; dropped');
      return null;
    }
    await tx.dataExportPart.createMany({ data: [{ exportId: row.id, service: part.service, part: part.part as Prisma.InputJsonObject }], skipDuplicates: true });
    if (row.status !== 'PENDING') return null;
    const parts = await tx.dataExportPart.findMany({ where: { exportId: row.id } });
    if (!PARTICIPANTS.every((service) => parts.some((p) => p.service === service))) return null;

    const readyAt = new Date();
    const document = JSON.stringify(
      {
        exportId: row.id,
        userId: row.userId,
        generatedAt: readyAt.toISOString(),
        users: await usersPart(tx, row.userId),
        ...Object.fromEntries(PARTICIPANTS.map((service) => [service, parts.find((p) => p.service === service)!.part])),
      },
      null,
      2,
    );
    const ready = await tx.dataExport.update({
      where: { id: row.id },
      data: { status: 'READY', readyAt, expiresAt: new Date(readyAt.getTime() + deps.privacy.exportTtlSeconds * 1000), document },
    });
    await acknowledgeOutboxEvent(tx, row.requestEventId);
    await appendAudit(tx, { ...usersAudit(null, 'users.data-export.ready', row.userId, { exportId: row.id }), requestId: null });
    return ready;
  });
}

/** What users holds about a user: the profile and the sessions. Never the password hash or token hashes. */
async function usersPart(tx: Prisma.TransactionClient, userId: string) {
  const user = await tx.user.findUniqueOrThrow({
    where: { id: userId },
    select: { id: true, email: true, name: true, role: true, status: true, createdAt: true, updatedAt: true },
  });
  const sessions = await tx.sessionFamily.findMany({
    where: { userId },
    orderBy: { createdAt: 'asc' },
    select: { id: true, createdAt: true, revokedAt: true, revokedReason: true },
  });
  const accountDeletions = await tx.accountDeletion.findMany({
    where: { userId },
    orderBy: { requestedAt: 'asc' },
    select: { id: true, status: true, requestedAt: true, scheduledFor: true, cancelledAt: true },
  });
  return { profile: user, sessions, accountDeletions };
}

/** Purges the documents of exports past their expiry; returns how many. */
export async function expireDataExports(prisma: PrismaClient): Promise<number> {
  const { count } = await prisma.dataExport.updateMany({
    where: { status: 'READY', expiresAt: { lte: new Date() } },
    data: { status: 'EXPIRED', document: null },
  });
  return count;
}

/** An export as a reader sees it: past its expiry it is EXPIRED without a document, purged or not yet. */
export function asSeen(row: DataExport, now = new Date()): DataExport {
  return row.status === 'READY' && row.expiresAt && row.expiresAt <= now ? { ...row, status: 'EXPIRED', document: null } : row;
}

/**
 * The export `id` if `viewer` may see it (who requested it, whose data it is, admins), else null:
 * the same answer as for an id nobody uses, so an id reveals nothing.
 */
export async function findDataExport(prisma: PrismaClient, viewer: Requester, id: string): Promise<DataExport | null> {
  if (!isUuid(id)) return null;
  const row = await prisma.dataExport.findUnique({ where: { id } });
  if (!row) return null;
  if (viewer.role !== 'ADMIN' && viewer.id !== row.userId && viewer.id !== row.requestedById) return null;
  return asSeen(row);
}
