/**
 * Privileged account operations — changing a role, ending someone's sessions — judged by authority
 * as it is now, not as a token remembers it (docs/identity/sessions.md, "Fresh authority").
 *
 * The shield (permissions.ts) already sees the viewer's current role: context.ts reads it from the
 * database on every request. Here it is read once more, inside the transaction that writes, with
 * the actor's and the target's rows locked (in id order, so two such transactions cannot deadlock).
 * Two admins demoting each other at the same moment therefore cannot both succeed on the strength
 * of a role one of them has just lost: the second sees the first's change and is refused.
 *
 * Both write their audit entry (audit-log.ts) in the same transaction: no change without its entry.
 *
 * Ranks (STUDENT < INSTRUCTOR < ADMIN): an actor may not give a role above their own, raise their
 * own, or change the role or end the sessions of anyone ranked above them.
 */
import { badUserInput, forbidden, notFound, parseInput } from '@campus/kit/core';
import type { Role } from '@campus/kit/identity';
import { z } from 'zod';
import { appendAudit, usersAudit } from './audit-log.ts';
import type { Prisma, User } from './generated/prisma/client.ts';
import type { UsersDomain } from './domain.ts';
import { publishEnded, revokeFamilies } from './sessions.ts';

export const ROLE_RANK: Record<Role, number> = { STUDENT: 0, INSTRUCTOR: 1, ADMIN: 2 };

interface LockedAccount {
  id: string;
  role: Role;
  status: string;
}

/** Locks the actor's and the target's rows for the rest of the transaction and reads them. */
async function lockAccounts(tx: Prisma.TransactionClient, actorId: string, targetId: string) {
  const rows = await tx.$queryRaw<LockedAccount[]>`
    SELECT "id"::text AS "id", "role"::text AS "role", "status"::text AS "status"
    FROM "User" WHERE "id" IN (${actorId}::uuid, ${targetId}::uuid)
    ORDER BY "id" FOR UPDATE`;
  return { actor: rows.find((r) => r.id === actorId), target: rows.find((r) => r.id === targetId) };
}

/** Throws unless `actor` may act on `target` (and give it `newRole`), by their roles now. */
function assertMayManage(actor: LockedAccount | undefined, target: LockedAccount | undefined, targetId: string, newRole?: Role): asserts target is LockedAccount {
  if (!actor || actor.status !== 'ACTIVE' || actor.role !== 'ADMIN') {
    throw forbidden(`Only admins can do this, and your account is ${actor ? `${actor.role.toLowerCase()} now` : 'gone'}.`);
  }
  if (!target) throw notFound('User', targetId);
  if (target.id !== actor.id && ROLE_RANK[target.role] > ROLE_RANK[actor.role]) {
    throw forbidden('You cannot change an account that ranks above your own.');
  }
  if (newRole && ROLE_RANK[newRole] > ROLE_RANK[actor.role]) {
    throw forbidden(target.id === actor.id ? 'You cannot raise your own role.' : 'You cannot give a role above your own.');
  }
}

const setRoleInput = z.object({ userId: z.uuid('must be a user id'), role: z.enum(['STUDENT', 'INSTRUCTOR', 'ADMIN']) });

/**
 * Changes a role and ends the user's sessions: their next token must carry the new role. The
 * sessions are recorded as ended before the transaction commits, so there is no moment when the
 * new role is stored and a token with the old one is still accepted anywhere.
 */
export async function setUserRole(deps: UsersDomain, actorId: string, input: unknown): Promise<User> {
  const data = parseInput(setRoleInput, input);
  const { user, changed } = await deps.prisma.$transaction(async (tx) => {
    const { actor, target } = await lockAccounts(tx, actorId, data.userId);
    assertMayManage(actor, target, data.userId, data.role);
    if (target.id === actorId && data.role !== target.role) {
      throw badUserInput('input.role', 'input.role: admins cannot remove their own admin role; ask another admin.');
    }
    if (target.role === data.role) return { user: await tx.user.findUniqueOrThrow({ where: { id: target.id } }), changed: false };
    const updated = await tx.user.update({ where: { id: target.id }, data: { role: data.role } });
    const ended = await revokeFamilies(tx, { userId: target.id }, 'ROLE_CHANGED');
    await deps.revocations.revoke(ended, 'ROLE_CHANGED');
    await appendAudit(tx, usersAudit(actorId, 'users.role.change', target.id, { from: target.role, to: data.role, sessionsEnded: ended.length }));
    return { user: updated, changed: true };
  });
  // User.role is readable with the public User fields the router caches.
  if (changed) await deps.catalogChanged();
  // Every client of the account hears it, including one whose session had already ended.
  if (changed) await deps.live.sessionEvent({ userId: user.id, reason: 'ROLE_CHANGED', role: user.role });
  return user;
}

const revokeSessionsInput = z.object({ userId: z.uuid('must be a user id') });

/** An admin ends every session of an account (a lost device, a suspected takeover). */
export async function revokeSessions(deps: UsersDomain, actorId: string, input: unknown): Promise<{ user: User; revokedSessionCount: number }> {
  const data = parseInput(revokeSessionsInput, input);
  const { user, ended } = await deps.prisma.$transaction(async (tx) => {
    const { actor, target } = await lockAccounts(tx, actorId, data.userId);
    assertMayManage(actor, target, data.userId);
    const ended = await revokeFamilies(tx, { userId: target.id }, 'REVOKED_BY_ADMIN');
    await deps.revocations.revoke(ended, 'REVOKED_BY_ADMIN');
    await appendAudit(tx, usersAudit(actorId, 'users.sessions.revoke', target.id, { sessionsEnded: ended.length }));
    return { user: await tx.user.findUniqueOrThrow({ where: { id: target.id } }), ended };
  });
  await publishEnded(deps.live, { userId: user.id }, 'REVOKED_BY_ADMIN', ended);
  return { user, revokedSessionCount: ended.length };
}
