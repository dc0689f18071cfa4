/**
 * The erasure saga (docs/privacy.md): what happens to an account deletion once its cool-off ended.
 *
 *   SCHEDULED --(poller: startDueErasure)--> RUNNING --(courses' and payments' steps)--> COMPLETED
 *
 * Start, in ONE transaction: the due deletion is claimed (FOR UPDATE SKIP LOCKED, so of several
 * users instances exactly one starts it, and a concurrent cancel either wins or sees it RUNNING),
 * set RUNNING, and users takes its own step: the profile is replaced by a pseudonym, the password
 * made unusable, every session ended, the user's exports and throttle counters deleted. The same
 * transaction writes `AccountErasureRequested` to the outbox and the audit entry. The sessions are
 * recorded in the revocation store before the commit, as a role change does (authority.ts): if
 * the commit then fails, the sessions stay ended and the next poll starts the erasure again; the
 * other order would leave a moment when the account is erased and its tokens still accepted.
 *
 * Steps: courses and payments answer with `AccountErasureStepCompleted` (event-handlers.ts).
 * Users records each (the first per service; redeliveries are answered again and change nothing)
 * under the deletion's row lock, and with the last one marks the deletion COMPLETED and
 * acknowledges the outbox row, so it completes exactly once. Until then the relay republishes the
 * request (an acknowledged type), so a participant that was down when it was first published takes
 * its step when it is back. All state is rows: any service may restart at any point.
 */
import { randomBytes } from 'node:crypto';
import { acknowledgeOutboxEvent, EVENTS, type EventPayload } from '@campus/kit/events';
import { appendAudit, usersAudit } from './audit-log.ts';
import type { UsersDomain } from './domain.ts';
import type { AccountDeletion, Prisma, User } from './generated/prisma/client.ts';
import { PARTICIPANTS, recordEvent } from './outbox.ts';
import { publishEnded, revokeFamilies } from './sessions.ts';
import { accountKey } from './login-throttle.ts';

/** What an erased account's name becomes wherever it is shown (instructors of kept courses, reviews ...). */
export const ERASED_NAME = 'Deleted user';

/** A password hash no password matches (verifyPassword answers false for what is not an Argon2 hash). */
const UNUSABLE_PASSWORD = '!erased';

/**
 * The user a pseudonymous id stands for (packages/kit/src/events/pseudonyms.ts): courses and
 * payments keep an erased person's enrollments and payments under such an id, and their `user`
 * fields still ask users for it. Nothing about the person is left to show, and nothing here links
 * the id to the account it replaced: the name is ERASED_NAME, the email and the role are gone (no
 * email; STUDENT, the least), and the creation date is the epoch, since the real one went with the
 * account.
 */
export function erasedPerson(id: string): User {
  const never = new Date(0);
  return { id, email: '', passwordHash: UNUSABLE_PASSWORD, name: ERASED_NAME, role: 'STUDENT', status: 'ERASED', createdAt: never, updatedAt: never };
}

/**
 * Starts the erasure of one due deletion, if there is one no other instance is starting. Returns
 * it, RUNNING, or null when none was due.
 */
export async function startDueErasure(deps: UsersDomain): Promise<AccountDeletion | null> {
  const started = await deps.prisma.$transaction(async (tx) => {
    const [due] = await tx.$queryRaw<{ id: string }[]>`
      SELECT "id"::text AS "id" FROM "AccountDeletion"
       WHERE "status" = 'SCHEDULED' AND "scheduledFor" <= now()
       ORDER BY "scheduledFor", "id" LIMIT 1 FOR UPDATE SKIP LOCKED`;
    if (!due) return null;
    const deletion = await tx.accountDeletion.findUniqueOrThrow({ where: { id: due.id } });
    const userId = deletion.userId;
    const [user] = await tx.$queryRaw<{ email: string }[]>`SELECT "email" FROM "User" WHERE "id" = ${userId}::uuid FOR UPDATE`;
    // A different pseudonym per erasure, random: nothing in it leads back to the account.
    const pseudonym = `erased-${randomBytes(12).toString('hex')}`;
    const { endedSessionIds, ...counts } = user ? await eraseProfile(tx, userId, user.email, pseudonym) : { endedSessionIds: [], sessionsEnded: 0, exportsDeleted: 0 };
    await deps.revocations.revoke(endedSessionIds, 'ACCOUNT_ERASED');
    const requestEventId = await recordEvent(tx, EVENTS.AccountErasureRequested, { deletionId: deletion.id, userId, pseudonym });
    const running = await tx.accountDeletion.update({
      where: { id: deletion.id },
      data: { status: 'RUNNING', startedAt: new Date(), requestEventId },
    });
    await tx.accountDeletionStep.create({ data: { deletionId: deletion.id, service: 'users', summary: counts } });
    await appendAudit(tx, { ...usersAudit(null, 'users.account-erasure.start', userId, { deletionId: deletion.id, ...counts }), requestId: null });
    return { running, endedSessionIds };
  });
  if (!started) return null;
  deps.outboxCommitted();
  // The erased name replaces an instructor's on catalog pages.
  await deps.catalogChanged();
  await publishEnded(deps.live, { userId: started.running.userId }, 'ACCOUNT_ERASED', started.endedSessionIds);
  deps.logger.info({ deletionId: started.running.id, userId: started.running.userId }, 'account erasure started');
  return started.running;
}

/** Users' own step: what it holds about the user, replaced or removed. */
async function eraseProfile(tx: Prisma.TransactionClient, userId: string, email: string, pseudonym: string) {
  await tx.user.update({
    where: { id: userId },
    data: { email: `${pseudonym}@erased.invalid`, name: ERASED_NAME, passwordHash: UNUSABLE_PASSWORD, status: 'ERASED' },
  });
  const endedSessionIds = await revokeFamilies(tx, { userId }, 'ACCOUNT_ERASED');
  // The families stay (revoked, so their access tokens are refused here too); the token hashes go.
  await tx.refreshToken.deleteMany({ where: { family: { userId } } });
  // Exports hold the user's data: gone, with their requests no longer waited for.
  const exports = await tx.dataExport.findMany({ where: { userId }, select: { requestEventId: true } });
  for (const e of exports) await acknowledgeOutboxEvent(tx, e.requestEventId);
  const { count: exportsDeleted } = await tx.dataExport.deleteMany({ where: { userId } });
  // The throttle counter is keyed by the email.
  await tx.loginThrottle.deleteMany({ where: { key: accountKey(email) } });
  await tx.paymentProjection.deleteMany({ where: { userId } });
  return { sessionsEnded: endedSessionIds.length, exportsDeleted, endedSessionIds };
}

type StepEvent = EventPayload<'AccountErasureStepCompleted'>;

/**
 * Records a participant's finished step and completes the deletion with the last one. Returns the
 * deletion when this call completed it.
 */
export async function recordErasureStep(deps: UsersDomain, step: StepEvent): Promise<AccountDeletion | null> {
  return deps.prisma.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT "id"::text AS "id" FROM "AccountDeletion" WHERE "id" = ${step.deletionId}::uuid FOR UPDATE`;
    const deletion = locked && (await tx.accountDeletion.findUnique({ where: { id: locked.id } }));
    if (!deletion || deletion.userId !== step.userId || (deletion.status !== 'RUNNING' && deletion.status !== 'COMPLETED')) {
      deps.logger.error({ deletionId: step.deletionId, service: step.service }, 'erasure step for a deletion that is not running; dropped');
      return null;
    }
    await tx.accountDeletionStep.createMany({ data: [{ deletionId: deletion.id, service: step.service, summary: step.summary }], skipDuplicates: true });
    if (deletion.status !== 'RUNNING') return null;
    const steps = await tx.accountDeletionStep.findMany({ where: { deletionId: deletion.id }, select: { service: true } });
    if (!PARTICIPANTS.every((service) => steps.some((s) => s.service === service))) return null;
    const completed = await tx.accountDeletion.update({
      where: { id: deletion.id },
      data: { status: 'COMPLETED', completedAt: new Date(), openLock: null },
    });
    if (deletion.requestEventId) await acknowledgeOutboxEvent(tx, deletion.requestEventId);
    await appendAudit(tx, { ...usersAudit(null, 'users.account-erasure.complete', deletion.userId, { deletionId: deletion.id }), requestId: null });
    return completed;
  });
}
