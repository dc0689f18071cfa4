/**
 * Who may see what (docs/identity/service-identity.md, docs/courses.md). Shared by the shield rules in
 * permissions.ts and the per-event filters of subscriptions, so both apply the same policy.
 *
 *   - A PUBLISHED course is visible to everyone. A DRAFT or ARCHIVED one only to its instructor,
 *     admins, and learners enrolled in it (they keep what they paid for when a course is withdrawn).
 *   - Lesson content: learners enrolled in the course (ACTIVE or COMPLETED), its instructor and
 *     admins; preview lessons to everyone who can see the course.
 */
import type { Viewer } from '@campus/kit/identity';
import type { Course, Enrollment } from './generated/prisma/client.ts';
import type { Loaders } from './loaders.ts';
import type { LessonModel } from './models.ts';

export interface ViewerScope {
  viewer: Viewer | null;
  loaders: Loaders;
}

export const isAdminViewer = (viewer: Viewer | null) => viewer?.role === 'ADMIN';

export const teaches = (viewer: Viewer | null, course: Pick<Course, 'instructorId'>) =>
  viewer !== null && viewer.id === course.instructorId;

/** Instructors manage their own courses; admins manage every course. */
export const canManageCourse = (viewer: Viewer | null, course: Pick<Course, 'instructorId'>) =>
  isAdminViewer(viewer) || teaches(viewer, course);

export const grantsAccess = (enrollment: Pick<Enrollment, 'status'> | null | undefined) =>
  enrollment?.status === 'ACTIVE' || enrollment?.status === 'COMPLETED';

export async function isEnrolled(scope: ViewerScope, courseId: string): Promise<boolean> {
  if (!scope.viewer) return false;
  return grantsAccess(await scope.loaders.viewerEnrollmentByCourseId.load(courseId));
}

export async function canSeeCourse(scope: ViewerScope, course: Course): Promise<boolean> {
  if (course.status === 'PUBLISHED') return true;
  if (canManageCourse(scope.viewer, course)) return true;
  return isEnrolled(scope, course.id);
}

/** Learners with access, the instructor and admins: who may read lessons and follow the curriculum. */
export async function hasCourseAccess(scope: ViewerScope, course: Course): Promise<boolean> {
  return canManageCourse(scope.viewer, course) || isEnrolled(scope, course.id);
}

export async function canReadLessonContent(scope: ViewerScope, lesson: LessonModel, course: Course): Promise<boolean> {
  if (!(await canSeeCourse(scope, course))) return false;
  return lesson.isPreview || hasCourseAccess(scope, course);
}

/** Everyone sees the published courses a user teaches; the user themselves and admins see all of them. */
export const seesEveryCourseOf = (viewer: Viewer | null, instructorId: string) =>
  isAdminViewer(viewer) || viewer?.id === instructorId;

/** An enrollment is the learner's, their course instructor's and admins' to see. */
export async function canSeeEnrollment(scope: ViewerScope, enrollment: Enrollment): Promise<boolean> {
  const { viewer } = scope;
  if (!viewer) return false;
  if (viewer.id === enrollment.userId || isAdminViewer(viewer)) return true;
  const course = await scope.loaders.courseById.load(enrollment.courseId);
  return course !== null && teaches(viewer, course);
}
