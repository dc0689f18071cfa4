/** What resolvers return for GraphQL types whose shape differs from the generated types (codegen mappers). */
import type { Connection } from '@campus/kit/subgraph';
import type { Course, Enrollment, Lesson } from './generated/prisma/client.ts';

export type CourseModel = Course;
/** A lesson without its content: lists never load content; Lesson.content loads it when asked and allowed. */
export type LessonModel = Omit<Lesson, 'content'>;
export type EnrollmentModel = Enrollment;
/** Users are owned by the users service; here a user is only its id. */
export type UserModel = { id: string };
export interface ProgressModel {
  completedLessons: number;
  totalLessons: number;
  percent: number;
  nextLesson: LessonModel | null;
}
export type CourseConnectionModel = Connection<Course>;
export type EnrollmentConnectionModel = Connection<Enrollment>;
