/**
 * The GraphQL Code Generator config every subgraph uses: resolver types from schema.graphql,
 * federation-aware, with the subgraph's own model types mapped in from src/models.ts. A subgraph's
 * codegen.ts names only its mapped types.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

/** `mappedTypes`: GraphQL type name -> a type exported by src/models.ts, or `../file.ts#Type`. */
export function subgraphCodegenConfig(mappedTypes: Record<string, string>): CodegenConfig {
  return {
    schema: 'schema.graphql',
    silent: true,
    generates: {
      'src/generated/graphql.ts': {
        plugins: ['typescript', 'typescript-resolvers'],
        config: {
          federation: true,
          useIndexSignature: true,
          contextType: '../context.ts#Context',
          mappers: Object.fromEntries(Object.entries(mappedTypes).map(([type, model]) => [type, model.includes('#') ? model : `../models.ts#${model}`])),
          scalars: { ID: 'string' },
          enumsAsTypes: true,
          useTypeImports: true,
        },
      },
    },
  };
}
