import { isPseudonymousUserId } from '@campus/kit/events';
import { erasedPerson } from '../erasure.ts';
import type { UserResolvers } from '../generated/graphql.ts';

export const User: UserResolvers = {
  // An erased person's kept records in courses and payments name them by a pseudonymous id.
  __resolveReference: (ref, ctx) => (isPseudonymousUserId(ref.id) ? erasedPerson(ref.id) : ctx.loaders.userById.load(ref.id)),
  // An erased person has no email left to show (erasedPerson).
  email: (user) => user.email || null,
  createdAt: (user) => user.createdAt.toISOString(),
};
