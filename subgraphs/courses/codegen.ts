import type { CodegenConfig } from '@graphql-codegen/cli';

/** Resolver types generated from schema.graphql, federation-aware (typescript-resolvers). */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  silent: true,
  generates: {
    'src/generated/graphql.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        federation: true,
        useIndexSignature: true,
        contextType: '../context.ts#Context',
        mappers: {
          Course: '../models.ts#CourseModel',
          Lesson: '../models.ts#LessonModel',
          Enrollment: '../models.ts#EnrollmentModel',
          Progress: '../models.ts#ProgressModel',
          User: '../models.ts#UserModel',
          CourseConnection: '../models.ts#CourseConnectionModel',
          EnrollmentConnection: '../models.ts#EnrollmentConnectionModel',
        },
        scalars: { ID: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};
export default config;
