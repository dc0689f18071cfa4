/**
 * Courses' part in privacy and accountability (docs/privacy.md, docs/courses.md "Privacy"):
 * AuditRecorded written in the transaction of admin enrollments and admin changes to others'
 * courses (and right after a dead-letter replay), the data export part, and the erasure step
 * (progress deleted, enrollments anonymized with counts unchanged, the instructor's courses archived
 * or deleted, idempotent), and payment events that reach courses after its erasure step (applied to
 * the pseudonymous id, src/erasure.ts "Late payment events"). Users is played here by publishing its
 * requests on the bus and consuming the answers as its group would; payments, by publishing its
 * payment events.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createMemoryEventBus, domainEvent, pseudonymousUserId, type DomainEvent, type EventBus } from '@campus/kit/events';
import { waitFor } from '@campus/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import type { CoursesDomain } from '@campus/courses/domain';
import { adminEnroll } from '@campus/courses/enrollments';
import { eraseAccount } from '@campus/courses/erasure';
import { enrollAfterPurchase } from '@campus/courses/fulfillment';
import type { Enrollment, PrismaClient } from '@campus/courses/generated/prisma/client';
import { ADD_LESSON, ADMIN_ENROLL, COMPLETE, COURSE, ENROLL_FREE, UPDATE_COURSE, buildCourse } from './fixtures.ts';
import { ok, startCourses, type CoursesHarness, type Person } from './harness.ts';

const REPLAY = /* GraphQL */ `
  mutation Replay($input: ReplayEventDeadLettersInput!) { replayEventDeadLetters(input: $input) { replayed } }
`;

describe('privacy and accountability in courses', () => {
  let h: CoursesHarness;
  let bus: EventBus;
  let admin: Person;
  const answers: DomainEvent[] = [];
  const prisma = () => h.service.prisma;
  const auditsOf = (targetId: string) => prisma().outboxEvent.findMany({ where: { type: 'AuditRecorded', payload: { path: ['targetId'], equals: targetId } } });

  beforeAll(async () => {
    bus = createMemoryEventBus({ retryDelayMs: () => 10 });
    h = await startCourses({ bus });
    admin = await h.person('admin', 'ADMIN');
    await bus.consume('users', ['DataExportPartReady', 'AccountErasureStepCompleted'], async (e) => void answers.push(e));
  });
  afterAll(async () => {
    await h?.close();
    await bus?.close();
  });

  /** A domain whose transactions run their work, then fail: what commits only with the transaction disappears. */
  function failingTransactions(domain: CoursesDomain): CoursesDomain {
    const real = domain.prisma;
    const prisma = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== '$transaction') return Reflect.get(target, prop, receiver);
        return (fn: (tx: unknown) => Promise<unknown>) =>
          target.$transaction(async (tx) => {
            await fn(tx);
            throw new Error('the transaction fails after its work');
          });
      },
    }) as PrismaClient;
    return { ...domain, prisma };
  }

  describe('audit entries', () => {
    it('records an admin enrollment in its transaction, with the request id', async () => {
      const course = await buildCourse(h, await h.person('audit-teacher', 'INSTRUCTOR'), { price: { amount: 1900, currency: 'USD' } });
      const learner = await h.person(`audit-learner-${randomUUID()}`, 'STUDENT');
      const enrollment = ok(await h.request(ADMIN_ENROLL, { as: admin, variables: { input: { userId: learner.id, courseId: course.id } } })).adminEnroll.enrollment;
      const [audit] = await auditsOf(enrollment.id);
      expect(audit?.payload).toMatchObject({
        service: 'courses',
        actorId: admin.id,
        action: 'courses.enrollment.granted_by_admin',
        targetId: enrollment.id,
        details: { userId: learner.id, courseId: course.id, status: 'ACTIVE', changed: true },
      });
      expect((audit?.payload as { requestId: unknown }).requestId).toEqual(expect.any(String));
    });

    it('leaves no audit entry when the admin enrollment rolls back', async () => {
      const course = await buildCourse(h, await h.person('audit-teacher', 'INSTRUCTOR'));
      const userId = randomUUID();
      const viewer = { id: admin.id, role: admin.role, sessionId: randomUUID() };
      await expect(adminEnroll(failingTransactions(h.service.domain), viewer, { userId, courseId: course.id })).rejects.toThrow(/fails after its work/);
      expect(await prisma().enrollment.count({ where: { userId } })).toBe(0);
      const entries = await prisma().outboxEvent.findMany({ where: { type: 'AuditRecorded', payload: { path: ['details', 'userId'], equals: userId } } });
      expect(entries).toHaveLength(0);
    });

    it('records an admin change to someone else\'s course, not the instructor\'s own', async () => {
      const teacher = await h.person('audit-teacher', 'INSTRUCTOR');
      const course = await buildCourse(h, teacher);
      expect(await auditsOf(course.id)).toHaveLength(0);
      ok(await h.request(UPDATE_COURSE, { as: teacher, variables: { input: { courseId: course.id, subtitle: 'By its author' } } }));
      ok(await h.request(UPDATE_COURSE, { as: admin, variables: { input: { courseId: course.id, title: 'Retitled by an admin' } } }));
      ok(await h.request(ADD_LESSON, { as: admin, variables: { input: { courseId: course.id, title: 'Added by an admin', content: 'Text.' } } }));
      const actions = (await auditsOf(course.id)).map((row) => row.payload as { action: string; actorId: string; details: Record<string, unknown> });
      expect(actions).toEqual([
        expect.objectContaining({ action: 'courses.course.updated_by_admin', actorId: admin.id, details: expect.objectContaining({ fields: 'title', instructorId: teacher.id }) }),
        expect.objectContaining({ action: 'courses.lesson.added_by_admin', actorId: admin.id }),
      ]);
    });

    it('records a dead-letter replay right after it', async () => {
      const replayed = ok(await h.request(REPLAY, { as: admin, variables: { input: { consumer: 'courses' } } })).replayEventDeadLetters.replayed;
      const rows = await auditsOf('courses');
      expect(rows.at(-1)?.payload).toMatchObject({ action: 'courses.dead_letters.replayed', actorId: admin.id, details: { replayed, consumer: 'courses', requested: 'all' } });
    });
  });

  describe('data export', () => {
    it('answers with enrollments (with titles), progress and courses taught, again on a redelivery', async () => {
      const teacher = await h.person('export-teacher', 'INSTRUCTOR');
      const course = await buildCourse(h, teacher, { title: 'Exported Course' });
      const learner = await h.person(`export-learner-${randomUUID()}`, 'INSTRUCTOR');
      ok(await h.request(ENROLL_FREE, { as: learner, variables: { input: { courseId: course.id } } }));
      for (const lessonId of course.lessonIds.slice(0, 2)) ok(await h.request(COMPLETE, { as: learner, variables: { input: { lessonId } } }));
      const taught = await buildCourse(h, learner, { title: 'Taught by the learner', publish: false });

      const request = domainEvent('DataExportRequested', { exportId: randomUUID(), userId: learner.id });
      await bus.publish(request);
      const part = await waitFor(() => answers.find((a) => a.type === 'DataExportPartReady' && (a.payload as { acknowledges: string }).acknowledges === request.id), 'the export part');
      const payload = part.payload as { service: string; userId: string; part: Record<string, any> };
      expect(payload).toMatchObject({ service: 'courses', userId: learner.id, exportId: request.payload.exportId });
      expect(payload.part.enrollments).toEqual([expect.objectContaining({ courseId: course.id, courseTitle: 'Exported Course', status: 'ACTIVE', source: 'FREE' })]);
      expect(payload.part.progress.map((p: { lessonId: string }) => p.lessonId).sort()).toEqual(course.lessonIds.slice(0, 2).sort());
      expect(payload.part.progress[0]).toMatchObject({ courseId: course.id, lessonTitle: expect.stringMatching(/^Lesson /) });
      expect(payload.part.coursesTaught).toEqual([expect.objectContaining({ id: taught.id, title: 'Taught by the learner', status: 'DRAFT' })]);
      expect(payload.part.enrollmentHistory).toEqual([expect.objectContaining({ toStatus: 'ACTIVE', byYou: true })]);
      expect(payload.part.counts).toEqual({ enrollments: 1, enrollmentHistory: 1, progress: 2, coursesTaught: 1 });
      expect(payload.part.truncated).toEqual([]);

      await bus.publish(request);
      await waitFor(() => answers.filter((a) => (a.payload as { acknowledges: string }).acknowledges === request.id).length === 2, 'the second answer');
    });
  });

  describe('erasure', () => {
    const erasureAnswers = (requestId: string) =>
      answers.filter((a) => a.type === 'AccountErasureStepCompleted' && (a.payload as { acknowledges: string }).acknowledges === requestId);

    it('deletes progress, anonymizes enrollments (counts unchanged), archives taught courses (deletes unpublished ones); a redelivery changes nothing', async () => {
      const other = await h.person('erasure-teacher', 'INSTRUCTOR');
      const learned = await buildCourse(h, other, { title: 'Learned Course' });
      const person = await h.person(`erased-${randomUUID()}`, 'INSTRUCTOR');
      ok(await h.request(ENROLL_FREE, { as: person, variables: { input: { courseId: learned.id } } }));
      ok(await h.request(COMPLETE, { as: person, variables: { input: { lessonId: learned.lessonIds[0] } } }));
      const published = await buildCourse(h, person, { title: 'Published by the erased' });
      const student = await h.person(`student-${randomUUID()}`, 'STUDENT');
      ok(await h.request(ENROLL_FREE, { as: student, variables: { input: { courseId: published.id } } }));
      const draft = await buildCourse(h, person, { title: 'Draft by the erased', publish: false });
      const countOf = async (id: string) => (await prisma().course.findUniqueOrThrow({ where: { id } })).enrollmentCount;
      const before = { learned: await countOf(learned.id), published: await countOf(published.id) };

      const pseudonym = `deleted-user-${randomUUID().slice(0, 8)}`;
      const pseudoId = pseudonymousUserId(pseudonym);
      const request = domainEvent('AccountErasureRequested', { deletionId: randomUUID(), userId: person.id, pseudonym });
      await bus.publish(request);
      const [answer] = await waitFor(() => erasureAnswers(request.id).length === 1 && erasureAnswers(request.id), 'the erasure answer');
      const summary = (answer!.payload as { summary: Record<string, number> }).summary;
      expect(answer!.payload).toMatchObject({ service: 'courses', userId: person.id, deletionId: request.payload.deletionId });
      expect(summary).toMatchObject({ progressDeleted: 1, enrollmentsAnonymized: 1, enrollmentChangesPseudonymized: 1, coursesDeleted: 1, coursesArchived: 1 });

      expect(await prisma().enrollment.count({ where: { userId: person.id } })).toBe(0);
      const kept = await prisma().enrollment.findUniqueOrThrow({ where: { userId_courseId: { userId: pseudoId, courseId: learned.id } }, include: { progress: true, history: true } });
      expect(kept).toMatchObject({ status: 'ACTIVE', source: 'FREE', lastActivityAt: null, progress: [] });
      expect(kept.history.map((c) => c.actorId)).toEqual([pseudoId]);
      expect({ learned: await countOf(learned.id), published: await countOf(published.id) }).toEqual(before);
      expect(await prisma().course.findUnique({ where: { id: draft.id } })).toBeNull();
      expect(await prisma().lesson.count({ where: { courseId: draft.id } })).toBe(0);
      // Archived, still naming the erased account (users' tombstone), so its instructor still resolves.
      expect(await prisma().course.findUniqueOrThrow({ where: { id: published.id } })).toMatchObject({ status: 'ARCHIVED', instructorId: person.id, archivedAt: expect.any(Date) });
      // The archived course still serves its learners.
      const seen = ok(await h.request(COURSE, { as: student, variables: { id: published.id } })).course;
      expect(seen).toMatchObject({ status: 'ARCHIVED', viewerEnrollment: { status: 'ACTIVE' } });
      // Nothing left in the outbox names the account but the answer to the erasure and the course announcements.
      const naming = (await prisma().outboxEvent.findMany()).filter((row) => JSON.stringify(row.payload).includes(person.id));
      expect([...new Set(naming.map((row) => row.type))].sort()).toEqual(['AccountErasureStepCompleted', 'CourseUpdated']);
      const announced = await prisma().outboxEvent.findFirst({ where: { type: 'CourseUpdated', payload: { path: ['status'], equals: 'ARCHIVED' }, AND: { payload: { path: ['courseId'], equals: published.id } } } });
      expect(announced?.payload).toMatchObject({ instructorId: person.id, status: 'ARCHIVED' });

      await bus.publish(request);
      const again = domainEvent('AccountErasureRequested', request.payload);
      await bus.publish(again);
      await waitFor(() => erasureAnswers(request.id).length === 2 && erasureAnswers(again.id).length === 1, 'the answers to the redeliveries');
      for (const a of [...erasureAnswers(request.id), ...erasureAnswers(again.id)]) expect((a.payload as { summary: unknown }).summary).toEqual(summary);
      expect({ learned: await countOf(learned.id), published: await countOf(published.id) }).toEqual(before);
      expect(await prisma().enrollment.count({ where: { userId: pseudoId } })).toBe(1);
    });

    describe('payment events that reach courses after its erasure step', () => {
      const PRICE = { amount: 2900, currency: 'USD' };
      let seller: Person;
      let liveUpdates: MockInstance<(enrollment: Enrollment) => Promise<void>>;
      beforeAll(async () => {
        seller = await h.person('late-payments-seller', 'INSTRUCTOR');
      });
      afterEach(() => liveUpdates?.mockRestore());

      /** The answer courses wrote to a payment event (written in the transaction of its effect). */
      const answerTo = (eventId: string, nth = 1) =>
        waitFor(async () => {
          const rows = await prisma().outboxEvent.findMany({
            where: { type: { in: ['EnrollmentGranted', 'EnrollmentRevoked'] }, payload: { path: ['acknowledges'], equals: eventId } },
            orderBy: { seq: 'asc' },
          });
          return rows.length >= nth && rows[nth - 1];
        }, `answer ${nth} to payment event ${eventId}`);
      const countOf = async (id: string) => (await prisma().course.findUniqueOrThrow({ where: { id } })).enrollmentCount;
      const enrollmentOf = (userId: string, courseId: string) =>
        prisma().enrollment.findUnique({ where: { userId_courseId: { userId, courseId } }, include: { history: true } });

      /** Payments publishes a payment event about `userId` on the bus, as its relay does. */
      async function pay(type: 'PaymentSucceeded' | 'PaymentRefunded', userId: string, courseId: string, paymentId: string) {
        const event = domainEvent(type, { paymentId, userId, courseId, amount: PRICE.amount, currency: PRICE.currency });
        await bus.publish(event);
        return { event, answer: await answerTo(event.id) };
      }

      /** A buyer of `bought` (before erasure), then erased through the bus; live updates watched from then on. */
      async function erasedBuyer(bought: string) {
        const person = await h.person(`late-buyer-${randomUUID()}`, 'STUDENT');
        const paymentId = randomUUID();
        const purchase = await pay('PaymentSucceeded', person.id, bought, paymentId);
        expect(purchase.answer.payload).toMatchObject({ userId: person.id, enrollmentStatus: 'ACTIVE' });

        const pseudonym = `erased-${randomUUID().slice(0, 8)}`;
        const request = domainEvent('AccountErasureRequested', { deletionId: randomUUID(), userId: person.id, pseudonym });
        await bus.publish(request);
        await waitFor(() => erasureAnswers(request.id).length === 1, 'the erasure answer');
        liveUpdates = vi.spyOn(h.service.domain.live, 'enrollmentChanged');
        return { person, pseudoId: pseudonymousUserId(pseudonym), paymentId, purchase, deletionId: request.payload.deletionId };
      }

      /** Nothing courses holds names the erased account, but the erasure answers and course announcements. */
      async function expectNothingNames(userId: string) {
        expect(await prisma().enrollment.count({ where: { userId } })).toBe(0);
        expect(await prisma().enrollmentChange.count({ where: { actorId: userId } })).toBe(0);
        const naming = (await prisma().outboxEvent.findMany()).filter((row) => JSON.stringify(row.payload).includes(userId));
        expect([...new Set(naming.map((row) => row.type))]).toEqual(['AccountErasureStepCompleted']);
        expect(JSON.stringify(await prisma().erasureStep.findMany())).not.toContain(userId);
        const published = liveUpdates.mock.calls.map(([enrollment]) => enrollment.userId);
        expect(published).not.toContain(userId);
      }

      it('remembers the erased user by the hash of their id and their pseudonymous id, not the id', async () => {
        const course = await buildCourse(h, seller, { price: PRICE });
        const { person, pseudoId, deletionId } = await erasedBuyer(course.id);
        const step = await prisma().erasureStep.findUniqueOrThrow({ where: { deletionId } });
        expect(step).toMatchObject({ userIdHash: createHash('sha256').update(person.id).digest('hex'), pseudonymousId: pseudoId });
        expect(JSON.stringify(step)).not.toContain(person.id);
      });

      it('a purchase that settles after the step enrolls the pseudonymous id, answers with that enrollment, and a redelivery changes nothing', async () => {
        const before = await buildCourse(h, seller, { price: PRICE });
        const late = await buildCourse(h, seller, { price: PRICE });
        const { person, pseudoId } = await erasedBuyer(before.id);
        const count = await countOf(late.id);

        const { event, answer } = await pay('PaymentSucceeded', person.id, late.id, randomUUID());
        const enrollment = await enrollmentOf(pseudoId, late.id);
        expect(enrollment).toMatchObject({ status: 'ACTIVE', source: 'PURCHASE', paymentId: event.payload.paymentId });
        expect(enrollment!.history).toEqual([expect.objectContaining({ toStatus: 'ACTIVE', reason: 'purchased', actorId: null })]);
        expect(answer).toMatchObject({ type: 'EnrollmentGranted' });
        expect(answer.payload).toEqual({
          acknowledges: event.id,
          paymentId: event.payload.paymentId,
          userId: pseudoId,
          courseId: late.id,
          enrollmentId: enrollment!.id,
          enrollmentStatus: 'ACTIVE',
        });
        expect(await countOf(late.id)).toBe(count + 1);
        // Both enrollments (the one anonymized by the step, the late one) under the same id.
        expect(await prisma().enrollment.count({ where: { userId: pseudoId } })).toBe(2);
        expect(liveUpdates).not.toHaveBeenCalled();
        await expectNothingNames(person.id);

        // Payments publishes it again (its answer was late): a duplicate, answered again the same way.
        await bus.publish(event);
        const again = await answerTo(event.id, 2);
        expect(again.payload).toEqual(answer.payload);
        expect(await countOf(late.id)).toBe(count + 1);
        await expectNothingNames(person.id);
      });

      it('a purchase made before the step and republished after it is answered with the pseudonymous enrollment', async () => {
        const course = await buildCourse(h, seller, { price: PRICE });
        const { person, pseudoId, purchase } = await erasedBuyer(course.id);
        await bus.publish(purchase.event);
        const again = await answerTo(purchase.event.id, 2);
        const kept = await enrollmentOf(pseudoId, course.id);
        expect(again.payload).toMatchObject({ userId: pseudoId, enrollmentId: kept!.id, enrollmentStatus: 'ACTIVE' });
        expect(kept!.id).toBe((purchase.answer.payload as { enrollmentId: string }).enrollmentId);
        await expectNothingNames(person.id);
      });

      it("refuses an admin's enrollment of the erased id, writing nothing", async () => {
        const before = await buildCourse(h, seller, { price: PRICE });
        const other = await buildCourse(h, seller, { price: PRICE });
        const { person } = await erasedBuyer(before.id);
        const outboxRows = await prisma().outboxEvent.count();
        const r = await h.request(ADMIN_ENROLL, { as: admin, variables: { input: { userId: person.id, courseId: other.id } } });
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.userId' });
        expect(await prisma().outboxEvent.count()).toBe(outboxRows);
        await expectNothingNames(person.id);
      });

      it('a refund after the step revokes the pseudonymous enrollment', async () => {
        const course = await buildCourse(h, seller, { price: PRICE });
        const { person, pseudoId, paymentId, purchase } = await erasedBuyer(course.id);
        const count = await countOf(course.id);

        const { event, answer } = await pay('PaymentRefunded', person.id, course.id, paymentId);
        const revoked = await enrollmentOf(pseudoId, course.id);
        expect(revoked).toMatchObject({
          id: (purchase.answer.payload as { enrollmentId: string }).enrollmentId,
          status: 'REVOKED',
          revokeReason: 'refunded',
          paymentId,
        });
        expect(revoked!.history.map((c) => c.toStatus)).toEqual(['ACTIVE', 'REVOKED']);
        expect(answer).toMatchObject({ type: 'EnrollmentRevoked' });
        expect(answer.payload).toEqual({
          acknowledges: event.id,
          paymentId,
          userId: pseudoId,
          courseId: course.id,
          enrollmentId: revoked!.id,
          enrollmentStatus: 'REVOKED',
        });
        expect(await countOf(course.id)).toBe(count - 1);
        expect(liveUpdates).not.toHaveBeenCalled();
        await expectNothingNames(person.id);
      });

      it('a refund and then its purchase, both after the step, leave the pseudonymous id without access', async () => {
        const bought = await buildCourse(h, seller, { price: PRICE });
        const course = await buildCourse(h, seller, { price: PRICE });
        const { person, pseudoId } = await erasedBuyer(bought.id);
        const count = await countOf(course.id);
        const paymentId = randomUUID();

        const refund = await pay('PaymentRefunded', person.id, course.id, paymentId);
        expect(refund.answer.payload).toMatchObject({ userId: pseudoId, enrollmentStatus: 'REVOKED' });
        const purchase = await pay('PaymentSucceeded', person.id, course.id, paymentId);
        expect(purchase.answer.payload).toMatchObject({ userId: pseudoId, enrollmentStatus: 'REVOKED' });
        expect(await enrollmentOf(pseudoId, course.id)).toMatchObject({ status: 'REVOKED', revokeReason: 'refunded', paymentId });
        expect(await countOf(course.id)).toBe(count);
        await expectNothingNames(person.id);
      });

      it('a purchase handled while the step runs ends under the pseudonymous id either way', async () => {
        const free = await buildCourse(h, seller);
        const paid = await buildCourse(h, seller, { price: PRICE });
        for (let round = 0; round < 4; round++) {
          const person = await h.person(`racing-buyer-${randomUUID()}`, 'STUDENT');
          ok(await h.request(ENROLL_FREE, { as: person, variables: { input: { courseId: free.id } } }));
          const pseudonym = `erased-${randomUUID().slice(0, 8)}`;
          const pseudoId = pseudonymousUserId(pseudonym);
          const fact = { eventId: randomUUID(), paymentId: randomUUID(), userId: person.id, courseId: paid.id };
          const erasure = { eventId: randomUUID(), deletionId: randomUUID(), userId: person.id, pseudonym };
          const [purchase] = await Promise.all([enrollAfterPurchase(h.service.domain, fact), eraseAccount(h.service.domain, erasure)]);
          expect(purchase.outcome).toBe('changed');
          expect(await prisma().enrollment.count({ where: { userId: person.id } })).toBe(0);
          expect(await enrollmentOf(pseudoId, paid.id)).toMatchObject({ status: 'ACTIVE', paymentId: fact.paymentId });
          expect(await enrollmentOf(pseudoId, free.id)).toMatchObject({ status: 'ACTIVE', source: 'FREE' });
          const answer = await prisma().outboxEvent.findFirstOrThrow({ where: { type: 'EnrollmentGranted', payload: { path: ['acknowledges'], equals: fact.eventId } } });
          expect(answer.payload).toMatchObject({ userId: pseudoId, enrollmentStatus: 'ACTIVE' });
        }
      });
    });
  });
});
