import { unauthenticated } from '@campus/kit/core';
import { changePassword, logIn, signUp, updateProfile } from '../accounts.ts';
import { cancelAccountDeletion, requestAccountDeletion } from '../account-deletion.ts';
import { revokeSessions, setUserRole } from '../authority.ts';
import { requestDataExport } from '../data-export.ts';
import type { MutationResolvers } from '../generated/graphql.ts';
import type { Context } from '../context.ts';
import { endSession, rotateSession, type IssuedSession } from '../sessions.ts';

const viewerOf = (ctx: Context) => {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
};

/** Marks the signed-in account on the context so its own payload may show its email. */
const signedIn = <T extends IssuedSession>(ctx: Context, session: T): T => {
  ctx.signedInAs = session.user.id;
  return session;
};

export const Mutation: MutationResolvers = {
  signUp: async (_p, { input }, ctx) => signedIn(ctx, await signUp(ctx.domain, input)),
  logIn: async (_p, { input }, ctx) => signedIn(ctx, await logIn(ctx.domain, input, ctx.clientIp)),
  refreshSession: async (_p, { input }, ctx) => signedIn(ctx, await rotateSession(ctx.domain, input.refreshToken)),
  logOut: async (_p, { input }, ctx) => ({ success: await endSession(ctx.domain, input.refreshToken, ctx.viewer?.id) }),
  updateProfile: async (_p, { input }, ctx) => ({ user: await updateProfile(ctx.domain, viewerOf(ctx).id, input) }),
  changePassword: async (_p, { input }, ctx) => ({ user: await changePassword(ctx.domain, viewerOf(ctx), input) }),
  setUserRole: async (_p, { input }, ctx) => ({ user: await setUserRole(ctx.domain, viewerOf(ctx).id, input) }),
  revokeSessions: async (_p, { input }, ctx) => revokeSessions(ctx.domain, viewerOf(ctx).id, input),
  requestDataExport: async (_p, { userId }, ctx) => ({ export: await requestDataExport(ctx.domain, viewerOf(ctx), userId) }),
  requestAccountDeletion: async (_p, { input }, ctx) => ({ deletion: await requestAccountDeletion(ctx.domain, viewerOf(ctx).id, input, ctx.clientIp) }),
  cancelAccountDeletion: async (_p, { userId }, ctx) => ({ deletion: await cancelAccountDeletion(ctx.domain, viewerOf(ctx), userId) }),
};
