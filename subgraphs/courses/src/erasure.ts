/**
 * Courses' step of a user's account erasure (docs/privacy.md, docs/courses.md "Erasure"). Users
 * sends `AccountErasureRequested { deletionId, userId, pseudonym }`; courses answers
 * `AccountErasureStepCompleted` in the same transaction as the step.
 *
 * As a learner:
 *   - lesson progress is deleted (it says what the person did, lesson by lesson);
 *   - enrollments are anonymized, not deleted: the row stays with its status, source, payment and
 *     milestone dates under `pseudonymousUserId(pseudonym)` (packages/kit/src/events/pseudonyms.ts),
 *     `lastActivityAt` cleared. So `Course.enrollmentCount`, completion figures and payments' link
 *     from a kept payment to its enrollment (Payment.enrollmentId) stay as they were, and payments,
 *     which derives the same id from the same pseudonym, groups the same person's kept records
 *     under the same id. The id leads to no account: nobody can sign in as it.
 *   - their own acts in enrollment histories (`EnrollmentChange.actorId`) take the same id.
 * As an instructor (the platform's policy, docs/courses.md):
 *   - a course never published and with no enrollment is deleted with its lessons: it is the
 *     person's unpublished work and nobody else has a claim on it;
 *   - every other course of theirs is ARCHIVED (no new sales: checkout sells only PUBLISHED
 *     courses; enrolled learners keep access, as for any archived course). Its CourseUpdated says
 *     so, and its courseUpdated subscribers hear the new state. Titles and lessons stay: learners
 *     paid for them. Its instructor reference stays the erased account's id, which users keeps as
 *     a tombstone with no personal data ("Deleted user", subgraphs/users/src/erasure.ts): a
 *     pseudonymous id would name no user, and `Course.instructor: User!` would then fail for every
 *     learner who still opens the course.
 * The outbox: the user's export parts are deleted, and the user id inside every other row's
 * payload (enrollment answers, audit entries) becomes the pseudonymous id; CourseUpdated rows keep
 * the instructor reference, as the courses do.
 * Nothing is published about the user afterwards: live updates of their enrollments go to a topic
 * of their id, and no change is published there any more.
 *
 * Late payment events. Users asks courses and payments at once, so a PaymentSucceeded or
 * PaymentRefunded naming the user's real id can still arrive after this step committed (a payment
 * settling or a refund in flight at erasure time, or a republished event). Applied as they come,
 * they would enroll or revoke under the real id and bring back what the step removed. So the step
 * remembers whom it erased: `ErasureStep.userIdHash` (SHA-256 of the user id) and
 * `ErasureStep.pseudonymousId`, and fulfillment.ts applies such an event to the pseudonymous id
 * (`erasedAs`). The trade-off: whoever already knows a real id can hash it and find its pseudonymous
 * id, so for them the link is not severed. That is no worse than the payment rows payments keeps
 * (subgraphs/payments/src/erasure.ts): under the same pseudonymous id they carry the provider's
 * references, which lead back to the buyer. To whoever does not know the id, the hash of a random
 * UUID reveals nothing, and no row here names the account in clear. Both transactions take
 * `lockUser` first, so an event handled while the step runs either commits before it (and its
 * enrollment is anonymized with the rest) or sees its ErasureStep row.
 *
 * Idempotent: the step records `ErasureStep` (deletion id → summary, hashed user id, pseudonymous
 * id) first, in its transaction; a redelivered request finds it, changes nothing and answers again
 * with the same summary. Concurrent deliveries queue on `lockUser`, then on that row's primary key.
 */
import { createHash } from 'node:crypto';
import { pseudonymousUserId, type ErasureRequest, type ErasureResult, type ErasureSummary } from '@campus/kit/events';
import type { CoursesDomain } from './domain.ts';
import type { Course, Prisma } from './generated/prisma/client.ts';
import { recordCourseUpdated, recordEvent } from './outbox.ts';

type Tx = Prisma.TransactionClient;

/** How ErasureStep names the erased user: SHA-256 (hex) of the id (see the module comment). */
export function userIdHash(userId: string): string {
  return createHash('sha256').update(userId.toLowerCase()).digest('hex');
}

/**
 * The first of pg_advisory_xact_lock's two keys for "a user's enrollments, around erasure": the
 * two-key space does not overlap the one-key space of the migration lock (docs/migrations.md).
 */
const ERASURE_LOCK_CLASS = 0x636f7572; // "cour"

/**
 * Serializes the erasure step and payment events of one user (held until the transaction ends).
 * Keyed by a 32-bit hash of the id: two users sharing a key only wait for each other.
 */
export async function lockUser(tx: Tx, userId: string): Promise<void> {
  await tx.$executeRaw`SELECT 1 FROM pg_advisory_xact_lock(${ERASURE_LOCK_CLASS}::int, hashtext(${userId.toLowerCase()}))`;
}

/**
 * The pseudonymous id a user was erased under, or null when courses has not erased them. Call it
 * after `lockUser` in the same transaction, so a step running concurrently has committed or not
 * started yet.
 */
export async function erasedAs(tx: Tx, userId: string): Promise<string | null> {
  const step = await tx.erasureStep.findFirst({
    where: { userIdHash: userIdHash(userId), pseudonymousId: { not: null } },
    orderBy: { completedAt: 'asc' },
    select: { pseudonymousId: true },
  });
  return step?.pseudonymousId ?? null;
}

/** The step itself, inside the transaction; returns what it did and the courses it archived. */
async function erase(tx: Tx, userId: string, pseudonym: string): Promise<{ summary: ErasureSummary; archived: Course[] }> {
  const pseudoId = pseudonymousUserId(pseudonym);

  const progress = await tx.lessonProgress.deleteMany({ where: { enrollment: { userId } } });
  const history = await tx.enrollmentChange.updateMany({ where: { actorId: userId }, data: { actorId: pseudoId } });
  // Statuses stay as they are, so Course.enrollmentCount (ACTIVE + COMPLETED) needs no adjustment.
  const enrollments = await tx.enrollment.updateMany({ where: { userId }, data: { userId: pseudoId, lastActivityAt: null } });

  const unpublished = await tx.course.deleteMany({ where: { instructorId: userId, publishedAt: null, enrollments: { none: {} } } });
  await tx.course.updateMany({ where: { instructorId: userId, archivedAt: null }, data: { archivedAt: new Date() } });
  const archived = await tx.course.updateManyAndReturn({ where: { instructorId: userId, status: { not: 'ARCHIVED' } }, data: { status: 'ARCHIVED' } });
  for (const course of archived) await recordCourseUpdated(tx, course);

  const exportParts = await tx.$executeRaw`
    DELETE FROM "OutboxEvent" WHERE "type" = 'DataExportPartReady' AND "payload"->>'userId' = ${userId}`;
  // A user id is a UUID: replacing its text replaces exactly that id, in any payload shape. The
  // answers of erasure steps keep it (users must know which erasure they answer), and so do course
  // announcements (the instructor reference, above).
  const outboxEvents = await tx.$executeRaw`
    UPDATE "OutboxEvent" SET "payload" = replace("payload"::text, ${userId}, ${pseudoId})::jsonb
     WHERE "type" NOT IN ('AccountErasureStepCompleted', 'CourseUpdated') AND strpos("payload"::text, ${userId}) > 0`;

  return {
    summary: {
      progressDeleted: progress.count,
      enrollmentsAnonymized: enrollments.count,
      enrollmentChangesPseudonymized: history.count,
      coursesDeleted: unpublished.count,
      coursesArchived: archived.length,
      exportPartsDeleted: exportParts,
      outboxEventsPseudonymized: outboxEvents,
    },
    archived,
  };
}

/** Runs the step once per deletion and answers every delivery. */
export async function eraseAccount(domain: CoursesDomain, request: ErasureRequest): Promise<ErasureResult> {
  const { summary, first, archived } = await domain.prisma.$transaction(async (tx) => {
    // Payment events of this user wait for this transaction (or it waits for theirs).
    await lockUser(tx, request.userId);
    // Claimed first: a concurrent delivery of the same deletion waits here for this one's commit.
    const claimed = await tx.erasureStep.createMany({
      data: [{ deletionId: request.deletionId, summary: {}, userIdHash: userIdHash(request.userId), pseudonymousId: pseudonymousUserId(request.pseudonym) }],
      skipDuplicates: true,
    });
    let result: { summary: ErasureSummary; archived: Course[] };
    if (claimed.count === 0) {
      const done = await tx.erasureStep.findUniqueOrThrow({ where: { deletionId: request.deletionId } });
      result = { summary: done.summary as ErasureSummary, archived: [] };
    } else {
      result = await erase(tx, request.userId, request.pseudonym);
      await tx.erasureStep.update({ where: { deletionId: request.deletionId }, data: { summary: result.summary } });
    }
    await recordEvent(tx, 'AccountErasureStepCompleted', {
      acknowledges: request.eventId,
      deletionId: request.deletionId,
      userId: request.userId,
      service: 'courses',
      summary: result.summary,
    });
    return { ...result, first: claimed.count === 1 };
  });
  domain.outboxCommitted();
  // The instructor's published courses left the catalog, enrollment counts may have moved.
  if (first) await domain.catalogChanged();
  // The archived courses' new state (pseudonymous instructor) for whoever follows them.
  for (const course of archived) await domain.live.courseChanged(course);
  return { summary, first };
}
