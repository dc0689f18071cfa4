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
          Payment: '../models.ts#PaymentModel',
          PaymentConnection: '../models.ts#PaymentConnectionModel',
          Refund: '../models.ts#RefundModel',
          Receipt: '../models.ts#ReceiptModel',
          User: '../models.ts#UserRef',
          Course: '../models.ts#CourseRef',
        },
        scalars: { ID: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};
export default config;
