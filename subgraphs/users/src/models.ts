/** What resolvers return for GraphQL types whose shape differs from the generated types (codegen mappers). */
import type { Connection } from '@campus/kit/subgraph';
import type { AccountDeletion, AccountDeletionStep, AuditEntry, DataExport, User } from './generated/prisma/client.ts';

export type UserModel = User;
export type UserConnectionModel = Connection<User>;

/**
 * A data export as a row, or as a live update carried it (live-updates.ts): its dates then are ISO
 * strings, and the document is left out (it is read when a subscriber selects it).
 */
export type DataExportModel = Omit<DataExport, 'document' | 'requestedAt' | 'readyAt' | 'expiresAt'> & {
  document?: string | null;
  requestedAt: Date | string;
  readyAt: Date | string | null;
  expiresAt: Date | string | null;
};
export type AccountDeletionModel = AccountDeletion;
export type AccountDeletionStepModel = AccountDeletionStep;
export type AccountDeletionConnectionModel = Connection<AccountDeletion>;
export type AuditEntryModel = AuditEntry;
export type AuditEntryConnectionModel = Connection<AuditEntry>;
