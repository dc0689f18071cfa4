import { unauthenticated } from '@campus/kit';
import { changePassword, logIn, setUserRole, signUp, updateProfile } from '../accounts.ts';
import type { MutationResolvers } from '../generated/graphql.ts';
import { endSession, rotateSession } from '../sessions.ts';

const viewerOf = (ctx: { viewer: { id: string; sessionId: string } | null }) => {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
};

export const Mutation: MutationResolvers = {
  signUp: (_p, { input }, ctx) => signUp(ctx.accounts, input),
  logIn: (_p, { input }, ctx) => logIn(ctx.accounts, input, ctx.clientIp),
  refreshSession: (_p, { input }, ctx) => rotateSession(ctx.prisma, ctx.accounts.sessions, input.refreshToken),
  logOut: async (_p, { input }, ctx) => ({ success: await endSession(ctx.prisma, input.refreshToken, ctx.viewer?.id) }),
  updateProfile: async (_p, { input }, ctx) => ({ user: await updateProfile(ctx.accounts, viewerOf(ctx).id, input) }),
  changePassword: async (_p, { input }, ctx) => ({ user: await changePassword(ctx.accounts, viewerOf(ctx), input) }),
  setUserRole: async (_p, { input }, ctx) => ({ user: await setUserRole(ctx.accounts, viewerOf(ctx).id, input) }),
};
