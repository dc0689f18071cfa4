import type { LessonResolvers } from '../generated/graphql.ts';
import { loadExisting } from '../loaders.ts';

export const Lesson: LessonResolvers = {
  course: (lesson, _args, ctx) => loadExisting(ctx.loaders.courseById, lesson.courseId, 'Course'),
  duration: (lesson) => lesson.durationSeconds,
  // Only reached when permissions allow it; lists load lessons without their content.
  content: (lesson, _args, ctx) => ctx.loaders.lessonContentById.load(lesson.id),
};
