/** The users subgraph schema: schema.graphql + resolvers, built for federation, then guarded by graphql-shield. */
import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import { withPermissions } from './permissions.ts';
import { AccountDeletion, AccountDeletionStep } from './resolvers/AccountDeletion.ts';
import { AuditEntry } from './resolvers/AuditEntry.ts';
import { DataExport } from './resolvers/DataExport.ts';
import { DateTime } from './resolvers/DateTime.ts';
import { Mutation } from './resolvers/Mutation.ts';
import { Query } from './resolvers/Query.ts';
import { SessionEvent } from './resolvers/SessionEvent.ts';
import { Subscription } from './resolvers/Subscription.ts';
import { User } from './resolvers/User.ts';

export const typeDefs = parse(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

export function createSchema() {
  const resolvers = { Query, Mutation, Subscription, User, SessionEvent, DataExport, AccountDeletion, AccountDeletionStep, AuditEntry, DateTime } as unknown as GraphQLResolverMap<unknown>;
  return withPermissions(buildSubgraphSchema({ typeDefs, resolvers }));
}
