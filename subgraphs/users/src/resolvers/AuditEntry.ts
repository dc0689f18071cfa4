import type { AuditEntryResolvers } from '../generated/graphql.ts';

export const AuditEntry: AuditEntryResolvers = {
  seq: (entry) => entry.seq.toString(),
  details: (entry) => JSON.stringify(entry.details),
};
