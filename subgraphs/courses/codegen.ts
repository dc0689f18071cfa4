import { subgraphCodegenConfig } from '@campus/kit/tooling';

/** Resolver types for the courses subgraph; see packages/kit/src/tooling/codegen.ts. */
export default subgraphCodegenConfig({
  Course: 'CourseModel',
  Lesson: 'LessonModel',
  Enrollment: 'EnrollmentModel',
  Progress: 'ProgressModel',
  User: 'UserModel',
  CourseConnection: 'CourseConnectionModel',
  EnrollmentConnection: 'EnrollmentConnectionModel',
});
