/**
 * Sessions: a short-lived access token (JWT) plus a rotating refresh token (ARCHITECTURE.md
 * section 5). A refresh token is an opaque random string; only its SHA-256 is stored. Every use
 * rotates it. Presenting a token that was already rotated means it leaked (or a client raced
 * itself), so the whole family — the login session — is revoked, following RFC 9700 §4.14.2.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, forbidden, unauthenticated, type Role } from '@campus/kit';
import { SignJWT } from 'jose';
import type { PrismaClient, User } from './generated/prisma/client.ts';
import type { SessionEvents } from './session-events.ts';
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
  const family = await prisma.sessionFamily.create({
    data: {
      userId: user.id,
      tokens: { create: { tokenHash: sha256(refreshToken), expiresAt: refreshExpiry(settings) } },
    },
  });
  return { ...(await issueAccessToken(settings, user, family.id)), refreshToken, user };
}

const INVALID = 'This refresh token is not valid. Log in again.';

/** Exchanges a refresh token for a new session pair; detects reuse and revokes the family. */
export async function rotateSession(
  prisma: PrismaClient,
  settings: SessionSettings,
  events: SessionEvents,
  refreshToken: string,
): Promise<IssuedSession> {
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
    if (await revokeFamily(prisma, family.id, 'refresh token reuse')) {
      await events.publish({ userId: family.userId, reason: 'REFRESH_TOKEN_REUSED', endedSessionId: family.id });
    }
    throw unauthenticated('This refresh token was already used, so the session has been ended for safety. Log in again.');
  }
  return { ...(await issueAccessToken(settings, family.user, family.id)), refreshToken: next, user: family.user };
}

export async function revokeFamily(prisma: PrismaClient, familyId: string, reason: string): Promise<boolean> {
  const { count } = await prisma.sessionFamily.updateMany({
    where: { id: familyId, revokedAt: null },
    data: { revokedAt: new Date(), revokedReason: reason },
  });
  return count > 0;
}

/** Ends every session of a user, optionally keeping one (the one that asked). */
export async function revokeUserSessions(prisma: PrismaClient, userId: string, reason: string, keep?: string) {
  await prisma.sessionFamily.updateMany({
    where: { userId, revokedAt: null, ...(keep ? { id: { not: keep } } : {}) },
    data: { revokedAt: new Date(), revokedReason: reason },
  });
}

/** logOut: ends the session the refresh token belongs to. Unknown tokens end nothing. */
export async function endSession(
  prisma: PrismaClient,
  events: SessionEvents,
  refreshToken: string,
  userId?: string,
): Promise<boolean> {
  const stored = await prisma.refreshToken.findUnique({
    where: { tokenHash: sha256(refreshToken) },
    include: { family: true },
  });
  if (!stored || (userId && stored.family.userId !== userId)) return false;
  const ended = await revokeFamily(prisma, stored.familyId, 'logout');
  if (ended) await events.publish({ userId: stored.family.userId, reason: 'LOGGED_OUT', endedSessionId: stored.familyId });
  return ended;
}
