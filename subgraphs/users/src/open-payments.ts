/**
 * Which payments of a buyer are still in flight, as users learns it from payments' events
 * (consumer group "users", event-handlers.ts): account deletion is refused while one is
 * (account-deletion.ts), since erasing the buyer under a charge the provider has not settled would
 * leave a payment nobody can be told about.
 *
 * The bus delivers at least once and in any order. A PaymentStarted opens a payment only if no
 * outcome was seen for it: an outcome (PaymentSucceeded, PaymentFailed, PaymentRefunded) that
 * overtook its start leaves a closed row, and the late start keeps it closed. Each write is one
 * idempotent upsert, so redeliveries change nothing and no processed-event record is needed.
 */
import type { PrismaClient, Prisma } from './generated/prisma/client.ts';

type Db = PrismaClient | Prisma.TransactionClient;

export async function paymentStarted(db: Db, paymentId: string, userId: string): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "PaymentProjection" ("paymentId", "userId", "openedAt", "updatedAt") VALUES (${paymentId}, ${userId}::uuid, now(), now())
    ON CONFLICT ("paymentId") DO UPDATE SET "openedAt" = COALESCE("PaymentProjection"."openedAt", now()), "updatedAt" = now()`;
}

export async function paymentSettled(db: Db, paymentId: string, userId: string): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "PaymentProjection" ("paymentId", "userId", "closedAt", "updatedAt") VALUES (${paymentId}, ${userId}::uuid, now(), now())
    ON CONFLICT ("paymentId") DO UPDATE SET "closedAt" = COALESCE("PaymentProjection"."closedAt", now()), "updatedAt" = now()`;
}

/** How many of the user's payments are open and not yet settled, by what users has heard. */
export function openPaymentCount(db: Db, userId: string): Promise<number> {
  return db.paymentProjection.count({ where: { userId, openedAt: { not: null }, closedAt: null } });
}
