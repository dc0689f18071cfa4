/** The courses subgraph schema: schema.graphql + resolvers, built for federation, then guarded by graphql-shield. */
import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import { withPermissions } from './permissions.ts';
import { Course } from './resolvers/Course.ts';
import { Enrollment } from './resolvers/Enrollment.ts';
import { Lesson } from './resolvers/Lesson.ts';
import { Mutation } from './resolvers/Mutation.ts';
import { Query } from './resolvers/Query.ts';
import { Subscription } from './resolvers/Subscription.ts';
import { User } from './resolvers/User.ts';

export const typeDefs = parse(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

export function createSchema() {
  const resolvers = { Query, Mutation, Subscription, Course, Lesson, Enrollment, User } as GraphQLResolverMap<unknown>;
  return withPermissions(buildSubgraphSchema({ typeDefs, resolvers }));
}
