/**
 * Sessions: a short-lived access token (JWT) plus a rotating refresh token (docs/identity/sessions.md
 * section 5). A refresh token is an opaque random string; only its SHA-256 is stored. Every use
 * rotates it. Presenting a token that was already rotated means it leaked (or a client raced
 * itself), so the whole family — the login session — is revoked, following RFC 9700 §4.14.2.
 *
 * The family's id is the access token's `sid`. Ending a session (endSessions) marks the family
 * revoked here, records its id in the revocation store every token verifier asks
 * (packages/kit/src/identity/session-revocation.ts), then tells the user's open clients why
 * (live-updates.ts); docs/identity/sessions.md has the whole picture.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { forbidden, unauthenticated } from '@campus/kit/core';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, sessionEnded, type Role, type SessionEndReason, type SessionRevocations, type Viewer } from '@campus/kit/identity';
import { isUuid } from '@campus/kit/subgraph';
import { SignJWT } from 'jose';
import type { Prisma, PrismaClient, User } from './generated/prisma/client.ts';
import type { LiveUpdates } from './live-updates.ts';
import { SIGNING_ALG, type SigningKeys } from './signing-keys.ts';

export interface SessionSettings {
  keys: SigningKeys;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
}

export interface IssuedSession {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  user: User;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const newRefreshToken = () => randomBytes(32).toString('base64url');

export async function issueAccessToken(settings: SessionSettings, user: { id: string; role: Role }, sessionId: string) {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + settings.accessTokenTtlSeconds;
  const token = await new SignJWT({ role: user.role, sid: sessionId })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: settings.keys.kid, typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(settings.keys.privateKey);
  return { accessToken: token, accessTokenExpiresAt: new Date(exp * 1000).toISOString() };
}

const refreshExpiry = (settings: SessionSettings) => new Date(Date.now() + settings.refreshTokenTtlDays * 86_400_000);

/** Starts a new session (a new refresh-token family) for a user who just proved who they are. */
export async function startSession(prisma: PrismaClient, settings: SessionSettings, user: User): Promise<IssuedSession> {
  const refreshToken = newRefreshToken();
  // The role the token carries is read under a share lock on the user's row, in the transaction
  // that creates the family: a role change (setUserRole locks the row for update) either sees this
  // family and ends it, or runs first and this token carries the new role. Read before, outside,
  // a login racing a demotion could mint a token with the old role that nothing revokes.
  const { family, current } = await prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ role: Role }[]>`SELECT "role" FROM "User" WHERE "id" = ${user.id}::uuid FOR SHARE`;
    if (!row) throw unauthenticated('This account no longer exists.');
    const created = await tx.sessionFamily.create({
      data: {
        userId: user.id,
        tokens: { create: { tokenHash: sha256(refreshToken), expiresAt: refreshExpiry(settings) } },
      },
    });
    return { family: created, current: { ...user, role: row.role } };
  });
  return { ...(await issueAccessToken(settings, current, family.id)), refreshToken, user: current };
}

const INVALID = 'This refresh token is not valid. Log in again.';

/** What ending sessions touches: the families, the revocation store, the users' open clients. */
export interface SessionEnding {
  prisma: PrismaClient;
  revocations: SessionRevocations;
  live: LiveUpdates;
}

/** Exchanges a refresh token for a new session pair; detects reuse and revokes the family. */
export async function rotateSession(
  deps: SessionEnding & { sessions: SessionSettings },
  refreshToken: string,
): Promise<IssuedSession> {
  const { prisma, sessions: settings } = deps;
  const stored = await prisma.refreshToken.findUnique({
    where: { tokenHash: sha256(refreshToken) },
    include: { family: { include: { user: true } } },
  });
  if (!stored) throw unauthenticated(INVALID);
  const { family } = stored;
  if (family.revokedAt) throw unauthenticated('This session has ended. Log in again.');
  if (stored.expiresAt <= new Date()) throw unauthenticated('This refresh token has expired. Log in again.');
  if (family.user.status !== 'ACTIVE') throw forbidden('This account is suspended.');

  const next = newRefreshToken();
  const rotated = await prisma.$transaction(async (tx) => {
    // Conditional on rotatedAt still being null: of two concurrent uses, exactly one wins.
    const { count } = await tx.refreshToken.updateMany({
      where: { id: stored.id, rotatedAt: null },
      data: { rotatedAt: new Date() },
    });
    if (count === 0) return false;
    await tx.refreshToken.create({
      data: { familyId: family.id, tokenHash: sha256(next), expiresAt: refreshExpiry(settings) },
    });
    return true;
  });
  if (!rotated) {
    await endSessions(deps, { userId: family.userId, sessionId: family.id }, 'REFRESH_TOKEN_REUSED');
    throw unauthenticated('This refresh token was already used, so the session has been ended for safety. Log in again.');
  }
  return { ...(await issueAccessToken(settings, family.user, family.id)), refreshToken: next, user: family.user };
}

/** Which of a user's sessions to end: one (`sessionId`), or all but `keepSessionId`, or all. */
export interface SessionScope {
  userId: string;
  sessionId?: string;
  keepSessionId?: string;
}

/**
 * Marks the scope's live families revoked and returns their ids, atomically (the ids are what the
 * UPDATE changed, so a family is ended, and announced, once). `db` may be a transaction.
 */
export async function revokeFamilies(db: Prisma.TransactionClient, scope: SessionScope, reason: SessionEndReason): Promise<string[]> {
  const ended = await db.sessionFamily.updateManyAndReturn({
    where: {
      userId: scope.userId,
      revokedAt: null,
      ...(scope.sessionId ? { id: scope.sessionId } : scope.keepSessionId ? { id: { not: scope.keepSessionId } } : {}),
    },
    data: { revokedAt: new Date(), revokedReason: reason },
    select: { id: true },
  });
  return ended.map((f) => f.id);
}

/**
 * Ends sessions, in the order that keeps the promise of docs/identity/sessions.md: families revoked
 * (no refresh), then the store (every verifier refuses their access tokens from now on), then the
 * event (open clients learn why; the router closes their sockets once it is delivered). Returns
 * how many sessions ended; none ended means no event.
 */
export async function endSessions(deps: SessionEnding, scope: SessionScope, reason: SessionEndReason): Promise<number> {
  const ended = await revokeFamilies(deps.prisma, scope, reason);
  await deps.revocations.revoke(ended, reason);
  await publishEnded(deps.live, scope, reason, ended);
  return ended.length;
}

/** Tells the user's open clients that these sessions (of `scope`) ended; nothing when none did. */
export async function publishEnded(live: LiveUpdates, scope: SessionScope, reason: SessionEndReason, ended: string[], role?: Role) {
  if (!ended.length) return;
  await live.sessionEvent({
    userId: scope.userId,
    reason,
    ...(scope.sessionId ? { endedSessionId: scope.sessionId } : {}),
    ...(scope.keepSessionId ? { keptSessionId: scope.keepSessionId } : {}),
    ...(role ? { role } : {}),
  });
}

/** logOut: ends the session the refresh token belongs to. Unknown tokens end nothing. */
export async function endSession(deps: SessionEnding, refreshToken: string, userId?: string): Promise<boolean> {
  const stored = await deps.prisma.refreshToken.findUnique({
    where: { tokenHash: sha256(refreshToken) },
    include: { family: true },
  });
  if (!stored || (userId && stored.family.userId !== userId)) return false;
  return (await endSessions(deps, { userId: stored.family.userId, sessionId: stored.familyId }, 'LOGGED_OUT')) > 0;
}

/**
 * The users service is where sessions and roles live, so it checks a verified token against them
 * on every request: the session still exists and is live, belongs to the token's user, and the
 * user is active. The viewer it returns carries the role the account has now, not the one in the
 * token, so every rule of this service (permissions.ts) judges by current authority. A deleted
 * account's sessions are deleted with it, so its tokens fail here.
 */
export async function currentViewer(prisma: PrismaClient, viewer: Viewer): Promise<{ viewer: Viewer; user: User }> {
  const family = isUuid(viewer.sessionId)
    ? await prisma.sessionFamily.findUnique({ where: { id: viewer.sessionId }, include: { user: true } })
    : null;
  if (!family || family.userId !== viewer.id) throw unauthenticated('This session does not exist (or its account was deleted). Log in again.');
  if (family.revokedAt) throw sessionEnded(family.revokedReason ?? undefined);
  if (family.user.status !== 'ACTIVE') throw unauthenticated('This account is suspended. Contact support.');
  return { viewer: { ...viewer, role: family.user.role }, user: family.user };
}

