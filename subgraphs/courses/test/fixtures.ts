/** GraphQL documents and course-building steps the courses tests share. */
import type { CoursesHarness, Person } from './harness.ts';
import { ok } from './harness.ts';

export const CREATE_COURSE = /* GraphQL */ `
  mutation Create($input: CreateCourseInput!) {
    createCourse(input: $input) { course { id slug title status isFree price { amount currency } instructor { id } } }
  }
`;
export const UPDATE_COURSE = /* GraphQL */ `
  mutation Update($input: UpdateCourseInput!) {
    updateCourse(input: $input) { course { id slug title subtitle description isFree price { amount currency } updatedAt } }
  }
`;
export const PUBLISH = /* GraphQL */ `
  mutation Publish($input: PublishCourseInput!) { publishCourse(input: $input) { course { id status publishedAt } } }
`;
export const UNPUBLISH = /* GraphQL */ `
  mutation Unpublish($input: UnpublishCourseInput!) { unpublishCourse(input: $input) { course { id status } } }
`;
export const ARCHIVE = /* GraphQL */ `
  mutation Archive($input: ArchiveCourseInput!) { archiveCourse(input: $input) { course { id status } } }
`;
export const ADD_LESSON = /* GraphQL */ `
  mutation Add($input: AddLessonInput!) { addLesson(input: $input) { lesson { id title position isPreview duration contentType } } }
`;
export const UPDATE_LESSON = /* GraphQL */ `
  mutation UpdateLesson($input: UpdateLessonInput!) { updateLesson(input: $input) { lesson { id title contentType content duration isPreview } } }
`;
export const REORDER = /* GraphQL */ `
  mutation Reorder($input: ReorderLessonsInput!) { reorderLessons(input: $input) { course { id lessons { id position } } } }
`;
export const DELETE_LESSON = /* GraphQL */ `
  mutation Delete($input: DeleteLessonInput!) { deleteLesson(input: $input) { deletedLessonId course { lessonCount lessons { id position } } } }
`;
export const ENROLL_FREE = /* GraphQL */ `
  mutation Enroll($input: EnrollInFreeCourseInput!) { enrollInFreeCourse(input: $input) { enrollment { id status source course { id } } } }
`;
export const COMPLETE = /* GraphQL */ `
  mutation Complete($input: CompleteLessonInput!) {
    completeLesson(input: $input) { enrollment { id status completedAt progress { completedLessons totalLessons percent nextLesson { id } } } }
  }
`;
export const ADMIN_ENROLL = /* GraphQL */ `
  mutation AdminEnroll($input: AdminEnrollInput!) { adminEnroll(input: $input) { enrollment { id status source } } }
`;
export const COURSE = /* GraphQL */ `
  query Course($id: ID!) {
    course(id: $id) { id title status enrollmentCount lessonCount totalDuration viewerEnrollment { id status } lessons { id title position isPreview } }
  }
`;

export interface BuiltCourse {
  id: string;
  slug: string;
  lessonIds: string[];
}

export interface CourseOptions {
  title?: string;
  price?: { amount: number; currency: string } | null;
  lessons?: number;
  /** How many of the first lessons are previews. */
  previews?: number;
  publish?: boolean;
  description?: string;
}

/** A course of `instructor`'s with lessons, published unless told otherwise. */
export async function buildCourse(h: CoursesHarness, instructor: Person, options: CourseOptions = {}): Promise<BuiltCourse> {
  const created = ok(
    await h.request(CREATE_COURSE, {
      as: instructor,
      variables: {
        input: {
          title: options.title ?? `Course ${Math.random().toString(36).slice(2, 8)}`,
          description: options.description ?? 'What you will learn, step by step.',
          category: 'DEVELOPMENT',
          price: options.price === undefined ? null : options.price,
        },
      },
    }),
  ).createCourse.course;
  const lessonIds: string[] = [];
  for (let i = 0; i < (options.lessons ?? 3); i++) {
    const lesson = ok(
      await h.request(ADD_LESSON, {
        as: instructor,
        variables: {
          input: { courseId: created.id, title: `Lesson ${i + 1}`, content: `Secret text of lesson ${i + 1}.`, isPreview: i < (options.previews ?? 0) },
        },
      }),
    ).addLesson.lesson;
    lessonIds.push(lesson.id);
  }
  if (options.publish !== false) ok(await h.request(PUBLISH, { as: instructor, variables: { input: { courseId: created.id } } }));
  return { id: created.id, slug: created.slug, lessonIds };
}
