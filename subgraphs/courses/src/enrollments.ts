/**
 * Enrollments: a user's access to a course. One row per user and course, never deleted: revoking
 * sets REVOKED and keeps progress, granting again restores the same row (docs/courses.md).
 * Every status change appends to EnrollmentChange and moves Course.enrollmentCount, in the same
 * transaction, so the history and the count cannot disagree with the rows.
 */
import { badUserInput, conflict, notFound, parseInput } from '@campus/kit/core';
import type { Viewer } from '@campus/kit/identity';
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { retryOnUniqueViolation, type CoursesDomain } from './domain.ts';
import type { Enrollment, EnrollmentSource, Prisma } from './generated/prisma/client.ts';
import { erasedAs, lockUser } from './erasure.ts';
import { recordAudit } from './outbox.ts';
import { canManageCourse, grantsAccess } from './visibility.ts';

type Tx = Prisma.TransactionClient;

export interface Grant {
  userId: string;
  courseId: string;
  source: EnrollmentSource;
  /** Why, for the history: "enrolled", "purchased", "admin". */
  reason: string;
  paymentId?: string | null;
  /** Who did it; null for system effects (payment events). */
  actorId?: string | null;
}

export interface EnrollmentResult {
  enrollment: Enrollment;
  /** False when nothing changed (already had access, or a duplicate). */
  changed: boolean;
}

/** Raw, so that enrollments do not bump the course's updatedAt (which means "content changed"). */
async function adjustEnrollmentCount(tx: Tx, courseId: string, delta: 1 | -1): Promise<void> {
  await tx.$executeRaw`UPDATE "Course" SET "enrollmentCount" = "enrollmentCount" + ${delta} WHERE "id" = CAST(${courseId} AS uuid)`;
}

export const findEnrollment = (tx: Tx, userId: string, courseId: string) =>
  tx.enrollment.findUnique({ where: { userId_courseId: { userId, courseId } } });

/**
 * Gives access: creates the enrollment, or restores a REVOKED one (a learner who had finished stays
 * COMPLETED). Already having access changes nothing. Run inside retryOnUniqueViolation: two first
 * grants racing collide on the unique (user, course) index and the retry finds the winner's row.
 */
export async function grantAccess(tx: Tx, grant: Grant): Promise<EnrollmentResult> {
  const { userId, courseId, source, reason } = grant;
  const paymentId = grant.paymentId ?? null;
  const actorId = grant.actorId ?? null;
  const existing = await findEnrollment(tx, userId, courseId);
  if (!existing) {
    const enrollment = await tx.enrollment.create({
      data: {
        userId,
        courseId,
        source,
        paymentId,
        history: { create: { fromStatus: null, toStatus: 'ACTIVE', source, reason, paymentId, actorId } },
      },
    });
    await adjustEnrollmentCount(tx, courseId, 1);
    return { enrollment, changed: true };
  }
  if (grantsAccess(existing)) return { enrollment: existing, changed: false };
  const status = existing.completedAt ? 'COMPLETED' : 'ACTIVE';
  // Conditional on still being REVOKED: of two concurrent restores exactly one counts.
  const [restored] = await tx.enrollment.updateManyAndReturn({
    where: { id: existing.id, status: 'REVOKED' },
    data: { status, source, paymentId, revokedAt: null, revokeReason: null },
  });
  if (!restored) return { enrollment: (await findEnrollment(tx, userId, courseId))!, changed: false };
  await tx.enrollmentChange.create({
    data: { enrollmentId: existing.id, fromStatus: 'REVOKED', toStatus: status, source, reason, paymentId, actorId },
  });
  await adjustEnrollmentCount(tx, courseId, 1);
  return { enrollment: restored, changed: true };
}

export interface Revocation {
  reason: string;
  paymentId?: string | null;
  actorId?: string | null;
}

/** Takes access away, keeping the row and its progress. Already revoked changes nothing. */
export async function revokeAccess(tx: Tx, enrollment: Enrollment, revocation: Revocation): Promise<EnrollmentResult> {
  const [revoked] = await tx.enrollment.updateManyAndReturn({
    where: { id: enrollment.id, status: { in: ['ACTIVE', 'COMPLETED'] } },
    data: { status: 'REVOKED', revokedAt: new Date(), revokeReason: revocation.reason },
  });
  if (!revoked) return { enrollment, changed: false };
  await tx.enrollmentChange.create({
    data: {
      enrollmentId: enrollment.id,
      fromStatus: enrollment.status,
      toStatus: 'REVOKED',
      reason: revocation.reason,
      paymentId: revocation.paymentId ?? null,
      actorId: revocation.actorId ?? null,
    },
  });
  await adjustEnrollmentCount(tx, enrollment.courseId, -1);
  return { enrollment: revoked, changed: true };
}

/** Runs a grant in its own transaction and, once committed, tells the learner's subscriptions. */
export async function commitGrant(domain: CoursesDomain, run: (tx: Tx) => Promise<EnrollmentResult>): Promise<Enrollment> {
  const result = await retryOnUniqueViolation(() => domain.prisma.$transaction(run));
  // Course.enrollmentCount (and the POPULARITY order) is public.
  if (result.changed) await domain.catalogChanged();
  if (result.changed) await domain.live.enrollmentChanged(result.enrollment);
  return result.enrollment;
}

const courseIdInput = z.object({ courseId: z.uuid('must be a course id') });

const paymentRequired = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'FORBIDDEN', reason: 'PAYMENT_REQUIRED' } });

/** Self-enrollment in a free published course; enrolling again returns the same enrollment. */
export async function enrollInFreeCourse(domain: CoursesDomain, viewer: Viewer, input: unknown): Promise<Enrollment> {
  const { courseId } = parseInput(courseIdInput, input);
  return commitGrant(domain, async (tx) => {
    const existing = await findEnrollment(tx, viewer.id, courseId);
    if (grantsAccess(existing)) return { enrollment: existing!, changed: false };
    const course = await tx.course.findUnique({ where: { id: courseId } });
    // A draft is "not found" to those who may not see it, so enrolling cannot probe for drafts.
    if (!course || (course.status !== 'PUBLISHED' && !canManageCourse(viewer, course))) throw notFound('Course', courseId);
    if (course.status !== 'PUBLISHED') {
      throw conflict(`This course is ${course.status}, not open for enrollment.`, { reason: 'COURSE_NOT_OPEN' });
    }
    if (course.priceAmount !== null) {
      throw paymentRequired('This course is not free: buy it to enroll (enrollInFreeCourse only takes free courses).');
    }
    return grantAccess(tx, { userId: viewer.id, courseId, source: 'FREE', reason: 'enrolled', actorId: viewer.id });
  });
}

const adminEnrollInput = z.object({ userId: z.uuid('must be a user id'), courseId: z.uuid('must be a course id') });

/**
 * An admin gives a user access to any course, free or paid, or restores revoked access. The user
 * is not checked here: users are another service's; an unknown id simply never signs in. An id
 * courses has erased is refused, under the erasure's lock (erasure.ts): a new row under it would
 * bring back what the erasure removed. Audited
 * (`courses.enrollment.granted_by_admin`), also when the user already had access: the attempt is
 * the privileged act.
 */
export async function adminEnroll(domain: CoursesDomain, admin: Viewer, input: unknown): Promise<Enrollment> {
  const { userId, courseId } = parseInput(adminEnrollInput, input);
  const enrollment = await commitGrant(domain, async (tx) => {
    const course = await tx.course.findUnique({ where: { id: courseId }, select: { id: true } });
    if (!course) throw notFound('Course', courseId);
    await lockUser(tx, userId);
    if (await erasedAs(tx, userId)) throw badUserInput('input.userId', 'This account was erased; it cannot be enrolled.');
    const result = await grantAccess(tx, { userId, courseId, source: 'ADMIN', reason: 'admin', actorId: admin.id });
    // In the grant's transaction: no admin grant commits without its audit entry, none rolled back leaves one.
    await recordAudit(tx, admin, 'courses.enrollment.granted_by_admin', result.enrollment.id, {
      userId,
      courseId,
      status: result.enrollment.status,
      changed: result.changed,
    });
    return result;
  });
  domain.outboxCommitted();
  return enrollment;
}
