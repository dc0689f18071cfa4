/**
 * Who may read and do what in the users subgraph. Fail closed: a field without a rule is denied.
 * The viewer's role here is the account's role now, read from the database with the session on
 * every request (context.ts), not the token's claim: `isAdmin` is fresh authority. authority.ts
 * checks it once more where it writes.
 */
import { forbidden } from '@campus/kit/core';
import { allow, applyShield, federationRules, isAdmin, isAuthenticated, rule } from '@campus/kit/subgraph';
import type { GraphQLSchema } from 'graphql';
import type { Context } from './context.ts';
import type { User } from './generated/prisma/client.ts';

/**
 * A user's email is theirs and admins' to see. signUp/logIn/refreshSession run without a token,
 * so the account they just signed in counts as the viewer for their own payload.
 */
const isSelfOrAdmin = rule({ cache: 'strict' })((parent: User, _args, ctx: Context) => {
  if (ctx.signedInAs === parent.id) return true;
  if (ctx.viewer && (ctx.viewer.id === parent.id || ctx.viewer.role === 'ADMIN')) return true;
  return forbidden("Only the user and admins can see a user's email.");
});

export function withPermissions(schema: GraphQLSchema): GraphQLSchema {
  return applyShield(schema, {
    Query: {
      ...federationRules.Query,
      me: allow,
      user: isAdmin,
      users: isAdmin,
      // Null for an export the viewer may not see (data-export.ts findDataExport).
      dataExport: isAuthenticated,
      myAccountDeletion: isAuthenticated,
      accountDeletions: isAdmin,
      auditLog: isAdmin,
    },
    Mutation: {
      signUp: allow,
      logIn: allow,
      refreshSession: allow,
      logOut: allow,
      updateProfile: isAuthenticated,
      changePassword: isAuthenticated,
      setUserRole: isAdmin,
      revokeSessions: isAdmin,
      // Another user's export or deletion: admins only, judged inside (data-export.ts, account-deletion.ts).
      requestDataExport: isAuthenticated,
      requestAccountDeletion: isAuthenticated,
      cancelAccountDeletion: isAuthenticated,
    },
    Subscription: { mySessionEvents: isAuthenticated, myDataExports: isAuthenticated },
    SessionEvent: allow,
    _Service: federationRules._Service,
    User: { '*': allow, email: isSelfOrAdmin },
    UserConnection: allow,
    UserEdge: allow,
    PageInfo: allow,
    AuthPayload: allow,
    LogOutPayload: allow,
    UpdateProfilePayload: allow,
    ChangePasswordPayload: allow,
    SetUserRolePayload: allow,
    RevokeSessionsPayload: allow,
    // Reached only through the guarded root fields above.
    DataExport: allow,
    AccountDeletion: { '*': allow, steps: isAdmin },
    AccountDeletionStep: allow,
    AccountDeletionConnection: allow,
    AccountDeletionEdge: allow,
    AuditEntry: allow,
    AuditEntryConnection: allow,
    AuditEntryEdge: allow,
    RequestDataExportPayload: allow,
    RequestAccountDeletionPayload: allow,
    CancelAccountDeletionPayload: allow,
  });
}
