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
          User: '../models.ts#UserModel',
          UserConnection: '../models.ts#UserConnectionModel',
          SessionEvent: '../session-events.ts#SessionEventMessage',
        },
        scalars: { ID: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};
export default config;
