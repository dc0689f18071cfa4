import { badUserInput } from '@campus/kit/core';
import { findCourses } from '../catalog.ts';
import { listDeadLetters } from '../dead-letters.ts';
import type { QueryResolvers } from '../generated/graphql.ts';

export const Query: QueryResolvers = {
  courses: async (_parent, args, ctx) => {
    const connection = await findCourses(ctx.prisma, args);
    ctx.loaders.primeCourses(connection.edges.map((e) => e.node));
    return connection;
  },
  course: (_parent, { id, slug }, ctx) => {
    if ((id == null) === (slug == null)) throw badUserInput('id', 'Give exactly one of id and slug.');
    return id != null ? ctx.loaders.courseById.load(id) : ctx.loaders.courseBySlug.load(slug!);
  },
  lesson: (_parent, { id }, ctx) => ctx.loaders.lessonById.load(id),
  eventDeadLetters: (_parent, args, ctx) => listDeadLetters(ctx.domain.bus, args),
};
