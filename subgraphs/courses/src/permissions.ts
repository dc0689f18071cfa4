/**
 * Who may read and do what in the courses subgraph (docs/identity/service-identity.md). Fail closed: a
 * field without a rule is denied. Rules guard types, not paths, so data reached through `_entities`
 * passes the same checks as data reached through Query. Refusals say UNAUTHENTICATED to anonymous
 * callers (signing in might help) and FORBIDDEN to signed-in ones.
 *
 * Rules that depend on the parent or on data use `no_cache`: the loaders already cache the rows,
 * and hashing every parent for shield's cache would cost more than the check.
 */
import { forbidden, notFound, unauthenticated } from '@campus/kit/core';
import { allow, and, applyShield, federationRules, hasRole, isAdmin, isAuthenticated, rule } from '@campus/kit/subgraph';
import type { GraphQLSchema } from 'graphql';
import type { Context } from './context.ts';
import type { Course, Enrollment } from './generated/prisma/client.ts';
import type { LessonModel } from './models.ts';
import { canManageCourse, canReadLessonContent, canSeeCourse, canSeeEnrollment, hasCourseAccess, isAdminViewer, isEnrolled } from './visibility.ts';

type Args = Record<string, any>;

const refuse = (ctx: Context, message: string) => (ctx.viewer ? forbidden(message) : unauthenticated());

const DRAFT_HIDDEN = 'This course is not published: only its instructor, admins and enrolled learners can see it.';

const canViewCourse = rule({ cache: 'no_cache' })(async (course: Course, _args, ctx: Context) =>
  (await canSeeCourse(ctx, course)) ? true : refuse(ctx, DRAFT_HIDDEN),
);

const canViewLesson = rule({ cache: 'no_cache' })(async (lesson: LessonModel, _args, ctx: Context) => {
  const course = await ctx.loaders.courseById.load(lesson.courseId);
  return course && (await canSeeCourse(ctx, course)) ? true : refuse(ctx, DRAFT_HIDDEN);
});

/**
 * `course(id:)` and `course(slug:)`: a course the viewer may not see is, to them, not there. It
 * resolves to null with NOT_FOUND, exactly like an id nobody uses, whatever fields are selected.
 * Refusing field by field instead confirms it exists and hands out the fields nobody guards (its
 * id). Exactly one of id and slug is the resolver's to insist on.
 */
const findsCourse = rule({ cache: 'no_cache' })(async (_parent, args: Args, ctx: Context) => {
  if ((args.id == null) === (args.slug == null)) return true;
  const course = args.id != null ? await ctx.loaders.courseById.load(args.id) : await ctx.loaders.courseBySlug.load(args.slug);
  return course && (await canSeeCourse(ctx, course)) ? true : notFound('Course', args.id ?? args.slug);
});

/** `lesson(id:)`: a lesson of a course the viewer may not see is not there either. */
const findsLesson = rule({ cache: 'no_cache' })(async (_parent, args: Args, ctx: Context) => {
  const lesson = await ctx.loaders.lessonById.load(args.id);
  const course = lesson && (await ctx.loaders.courseById.load(lesson.courseId));
  return course && (await canSeeCourse(ctx, course)) ? true : notFound('Lesson', args.id);
});

const canReadContent = rule({ cache: 'no_cache' })(async (lesson: LessonModel, _args, ctx: Context) => {
  const course = await ctx.loaders.courseById.load(lesson.courseId);
  if (course && (await canReadLessonContent(ctx, lesson, course))) return true;
  return refuse(ctx, 'Lesson content is for learners enrolled in the course: enroll (or buy it) to read it.');
});

const canViewEnrollment = rule({ cache: 'no_cache' })(async (enrollment: Enrollment, _args, ctx: Context) =>
  (await canSeeEnrollment(ctx, enrollment)) ? true : refuse(ctx, "Only the learner, the course's instructor and admins can see an enrollment."),
);

const isSelfOrAdmin = rule({ cache: 'no_cache' })((user: { id: string }, _args, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  return ctx.viewer.id === user.id || isAdminViewer(ctx.viewer) ? true : forbidden("Only the user and admins can see a user's enrollments.");
});

/** The catalog is PUBLISHED courses; asking for other statuses is an admin's tool. */
const canListStatuses = rule({ cache: 'no_cache' })((_parent, args: Args, ctx: Context) => {
  const statuses: string[] | null | undefined = args.filter?.status;
  if (!statuses || statuses.every((s) => s === 'PUBLISHED') || isAdminViewer(ctx.viewer)) return true;
  return refuse(ctx, 'Only admins can list unpublished courses; instructors find theirs under me { coursesTaught }.');
});

const onlyAdminsChooseInstructor = rule({ cache: 'no_cache' })((_parent, args: Args, ctx: Context) =>
  args.input?.instructorId == null || isAdminViewer(ctx.viewer) ? true : forbidden('Only admins can create a course for another instructor.'),
);

/** Instructors change their own courses, admins any; students none. Unknown courses are NOT_FOUND. */
async function managesCourse(ctx: Context, courseId: string): Promise<true | Error> {
  if (!ctx.viewer) return unauthenticated();
  if (ctx.viewer.role === 'STUDENT') return forbidden('Only instructors and admins can change courses.');
  const course = await ctx.loaders.courseById.load(courseId);
  if (!course) return notFound('Course', courseId);
  return canManageCourse(ctx.viewer, course) ? true : forbidden("Only the course's instructor and admins can change it.");
}

const managesCourseInInput = rule({ cache: 'no_cache' })((_parent, args: Args, ctx: Context) => managesCourse(ctx, args.input.courseId));

const managesLessonInInput = rule({ cache: 'no_cache' })(async (_parent, args: Args, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  const lesson = await ctx.loaders.lessonById.load(args.input.lessonId);
  if (!lesson) return notFound('Lesson', args.input.lessonId);
  return managesCourse(ctx, lesson.courseId);
});

const learnsLessonInInput = rule({ cache: 'no_cache' })(async (_parent, args: Args, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  const lesson = await ctx.loaders.lessonById.load(args.input.lessonId);
  if (!lesson) return notFound('Lesson', args.input.lessonId);
  return (await isEnrolled(ctx, lesson.courseId)) ? true : forbidden('Enroll in this course to record progress in it.');
});

/** courseUpdated: whoever may see the course now. */
const canFollowCourse = rule({ cache: 'no_cache' })(async (_parent, args: Args, ctx: Context) => {
  const course = await ctx.loaders.courseById.load(args.id);
  if (!course) return notFound('Course', args.id);
  return (await canSeeCourse(ctx, course)) ? true : refuse(ctx, DRAFT_HIDDEN);
});

/** lessonPublished: learners with access, the instructor, admins. */
const canFollowCurriculum = rule({ cache: 'no_cache' })(async (_parent, args: Args, ctx: Context) => {
  if (!ctx.viewer) return unauthenticated();
  const course = await ctx.loaders.courseById.load(args.courseId);
  if (!course) return notFound('Course', args.courseId);
  return (await hasCourseAccess(ctx, course)) ? true : forbidden('Only learners enrolled in the course, its instructor and admins can follow its lessons.');
});

export function withPermissions(schema: GraphQLSchema): GraphQLSchema {
  return applyShield(schema, {
    Query: { ...federationRules.Query, courses: canListStatuses, course: findsCourse, lesson: findsLesson, eventDeadLetters: isAdmin },
    Mutation: {
      createCourse: and(hasRole('INSTRUCTOR', 'ADMIN'), onlyAdminsChooseInstructor),
      updateCourse: managesCourseInInput,
      publishCourse: managesCourseInInput,
      unpublishCourse: managesCourseInInput,
      archiveCourse: managesCourseInInput,
      addLesson: managesCourseInInput,
      updateLesson: managesLessonInInput,
      reorderLessons: managesCourseInInput,
      deleteLesson: managesLessonInInput,
      enrollInFreeCourse: isAuthenticated,
      completeLesson: learnsLessonInInput,
      adminEnroll: isAdmin,
      replayEventDeadLetters: isAdmin,
    },
    Subscription: {
      courseUpdated: canFollowCourse,
      lessonPublished: canFollowCurriculum,
      myEnrollmentUpdates: isAuthenticated,
      progressUpdated: isAuthenticated,
    },
    _Service: federationRules._Service,
    Course: { '*': canViewCourse, id: allow },
    Lesson: { '*': canViewLesson, content: canReadContent },
    Enrollment: { '*': canViewEnrollment, id: allow },
    User: { id: allow, coursesTaught: allow, enrollments: isSelfOrAdmin },
    Progress: allow,
    Money: allow,
    CourseConnection: allow,
    CourseEdge: allow,
    EnrollmentConnection: allow,
    EnrollmentEdge: allow,
    PageInfo: allow,
    CreateCoursePayload: allow,
    UpdateCoursePayload: allow,
    PublishCoursePayload: allow,
    UnpublishCoursePayload: allow,
    ArchiveCoursePayload: allow,
    AddLessonPayload: allow,
    UpdateLessonPayload: allow,
    ReorderLessonsPayload: allow,
    DeleteLessonPayload: allow,
    EnrollInFreeCoursePayload: allow,
    CompleteLessonPayload: allow,
    AdminEnrollPayload: allow,
    EventDeadLetter: allow,
    ReplayEventDeadLettersPayload: allow,
  });
}
