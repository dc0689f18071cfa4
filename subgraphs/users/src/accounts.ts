/**
 * Account rules: sign-up, login, password and role changes. Resolvers call these; these call the
 * database, the password hasher, the throttle and the session issuer.
 */
import { badUserInput, conflict, forbidden, notFound, parseInput, unauthenticated, type Role } from '@campus/kit';
import { z } from 'zod';
import { Prisma, type PrismaClient, type User } from './generated/prisma/client.ts';
import { accountKey, assertNotThrottled, clearAccount, ipKey, recordFailure, type ThrottleSettings } from './login-throttle.ts';
import { decoyHash, hashPassword, verifyPassword } from './passwords.ts';
import type { SessionEvents } from './session-events.ts';
import { revokeUserSessions, startSession, type IssuedSession, type SessionSettings } from './sessions.ts';

export interface AccountDeps {
  prisma: PrismaClient;
  sessions: SessionSettings;
  throttle: ThrottleSettings;
  /** Tells the user's open clients when their sessions end (Subscription.mySessionEvents). */
  events: SessionEvents;
}

/** Emails are compared and stored lower-cased, which makes uniqueness case-insensitive. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

const email = z.string().trim().toLowerCase().pipe(z.email('must be a valid email address').max(254));
const password = z.string().min(8, 'must be at least 8 characters').max(512, 'must be at most 512 characters');
const name = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

const signUpInput = z.object({ email, password, name });

export async function signUp(deps: AccountDeps, input: unknown): Promise<IssuedSession> {
  const data = parseInput(signUpInput, input);
  const passwordHash = await hashPassword(data.password);
  try {
    const user = await deps.prisma.user.create({ data: { email: data.email, name: data.name, passwordHash } });
    return await startSession(deps.prisma, deps.sessions, user);
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') {
      throw conflict('An account with this email already exists. Log in instead, or use another email.', { field: 'input.email' });
    }
    throw e;
  }
}

const logInInput = z.object({ email: z.string(), password: z.string() });

export async function logIn(deps: AccountDeps, input: unknown, clientIp: string | undefined): Promise<IssuedSession> {
  const data = parseInput(logInInput, input);
  const emailKey = normalizeEmail(data.email);
  const keys = [accountKey(emailKey), ...(clientIp ? [ipKey(clientIp)] : [])];
  await assertNotThrottled(deps.prisma, keys);

  const user = await deps.prisma.user.findUnique({ where: { email: emailKey } });
  const valid = user ? await verifyPassword(user.passwordHash, data.password) : await verifyPassword(await decoyHash(), data.password);
  if (!user || !valid) {
    await recordFailure(deps.prisma, accountKey(emailKey), deps.throttle.maxFailures, deps.throttle);
    if (clientIp) await recordFailure(deps.prisma, ipKey(clientIp), deps.throttle.maxFailuresPerIp, deps.throttle);
    // Same message whether the email exists or not: no account enumeration.
    throw unauthenticated('Wrong email or password.');
  }
  if (user.status !== 'ACTIVE') throw forbidden('This account is suspended. Contact support.');
  await clearAccount(deps.prisma, emailKey);
  return startSession(deps.prisma, deps.sessions, user);
}

const updateProfileInput = z.object({ name: name.nullish() });

export async function updateProfile(deps: AccountDeps, userId: string, input: unknown): Promise<User> {
  const data = parseInput(updateProfileInput, input);
  return deps.prisma.user.update({ where: { id: userId }, data: { ...(data.name ? { name: data.name } : {}) } });
}

const changePasswordInput = z.object({ currentPassword: z.string(), newPassword: password });

/** Changes the password and ends every other session, so a thief with an old refresh token is out. */
export async function changePassword(deps: AccountDeps, viewer: { id: string; sessionId: string }, input: unknown): Promise<User> {
  const data = parseInput(changePasswordInput, input);
  const user = await deps.prisma.user.findUnique({ where: { id: viewer.id } });
  if (!user) throw notFound('User', viewer.id);
  if (!(await verifyPassword(user.passwordHash, data.currentPassword))) {
    throw badUserInput('input.currentPassword', 'input.currentPassword: does not match your current password.');
  }
  const updated = await deps.prisma.user.update({
    where: { id: user.id },
    data: { passwordHash: await hashPassword(data.newPassword) },
  });
  await revokeUserSessions(deps.prisma, user.id, 'password changed', viewer.sessionId);
  await deps.events.publish({ userId: user.id, reason: 'PASSWORD_CHANGED', keptSessionId: viewer.sessionId });
  return updated;
}

const setRoleInput = z.object({ userId: z.uuid('must be a user id'), role: z.enum(['STUDENT', 'INSTRUCTOR', 'ADMIN']) });

/** Changes a role and ends the user's sessions: their next token must carry the new role. */
export async function setUserRole(deps: AccountDeps, actorId: string, input: unknown): Promise<User> {
  const data = parseInput(setRoleInput, input);
  if (data.userId === actorId && data.role !== 'ADMIN') {
    throw badUserInput('input.role', 'input.role: admins cannot remove their own admin role; ask another admin.');
  }
  const existing = await deps.prisma.user.findUnique({ where: { id: data.userId } });
  if (!existing) throw notFound('User', data.userId);
  const user = await deps.prisma.user.update({ where: { id: data.userId }, data: { role: data.role as Role } });
  if (existing.role !== user.role) {
    await revokeUserSessions(deps.prisma, user.id, 'role changed');
    await deps.events.publish({ userId: user.id, reason: 'ROLE_CHANGED', role: user.role });
  }
  return user;
}
