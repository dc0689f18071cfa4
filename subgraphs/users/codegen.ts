import type { CodegenConfig } from '@graphql-codegen/cli';
import { subgraphCodegenConfig } from '@campus/kit/tooling';

/** Resolver types for the users subgraph; see packages/kit/src/tooling/codegen.ts. */
const config: CodegenConfig = subgraphCodegenConfig({
  User: 'UserModel',
  UserConnection: 'UserConnectionModel',
  SessionEvent: '../live-updates.ts#SessionEventMessage',
  DataExport: 'DataExportModel',
  AccountDeletion: 'AccountDeletionModel',
  AccountDeletionStep: 'AccountDeletionStepModel',
  AccountDeletionConnection: 'AccountDeletionConnectionModel',
  AuditEntry: 'AuditEntryModel',
  AuditEntryConnection: 'AuditEntryConnectionModel',
});

// DateTime (schema.graphql) leaves resolvers as a Date, or as the ISO string a live update carried
// through pub/sub; resolvers/DateTime.ts writes either as ISO-8601.
for (const output of Object.values(config.generates as Record<string, { config: { scalars: Record<string, string> } }>)) {
  output.config.scalars = { ...output.config.scalars, DateTime: 'Date | string' };
}

export default config;
