import { subgraphCodegenConfig } from '@campus/kit/codegen';

/** Resolver types for the courses subgraph; see packages/kit/src/codegen.ts. */
export default subgraphCodegenConfig({
  Course: 'CourseModel',
  Lesson: 'LessonModel',
  Enrollment: 'EnrollmentModel',
  Progress: 'ProgressModel',
  User: 'UserModel',
  CourseConnection: 'CourseConnectionModel',
  EnrollmentConnection: 'EnrollmentConnectionModel',
});
