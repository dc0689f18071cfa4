/**
 * Account rules: sign-up, login, profile and password changes. Resolvers call these; these call the
 * database, the password hasher, the throttle and the session issuer. Role changes and other
 * privileged operations are in authority.ts.
 */
import { badUserInput, conflict, displayText, forbidden, notFound, parseInput, unauthenticated } from '@campus/kit/core';
import { z } from 'zod';
import type { UsersDomain } from './domain.ts';
import { Prisma, type User } from './generated/prisma/client.ts';
import { appendAudit, usersAudit } from './audit-log.ts';
import { reserveLoginAttempt } from './login-throttle.ts';
import { decoyHash, hashPassword } from './passwords.ts';
import { endSessions, startSession, type IssuedSession } from './sessions.ts';

/** Emails are compared and stored lower-cased, which makes uniqueness case-insensitive. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

const email = z.string().trim().toLowerCase().pipe(z.email('must be a valid email address').max(254));
const password = z.string().min(8, 'must be at least 8 characters').max(512, 'must be at most 512 characters');
const name = displayText(100);

const signUpInput = z.object({ email, password, name });

export async function signUp(deps: UsersDomain, input: unknown): Promise<IssuedSession> {
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

// Bounded like sign-up's email: the throttle stores a counter per email tried, whether or not it has an account.
const logInInput = z.object({ email: z.string().max(254, 'must be at most 254 characters'), password: z.string() });

export async function logIn(deps: UsersDomain, input: unknown, clientIp: string | undefined): Promise<IssuedSession> {
  const data = parseInput(logInInput, input);
  const user = await checkPasswordThrottled(deps, normalizeEmail(data.email), data.password, clientIp);
  // Same message whether the email exists or not: no account enumeration.
  if (!user) throw unauthenticated('Wrong email or password.');
  if (user.status !== 'ACTIVE') throw forbidden('This account is suspended. Contact support.');
  return startSession(deps.prisma, deps.sessions, user);
}

/**
 * Every password check of an account goes through the login throttle (login-throttle.ts), so the
 * counters bound guesses however they arrive: logIn, or requestAccountDeletion with a stolen
 * access token. The attempt is counted before the password is checked; the account when the
 * password is right, else null (the reservation stays: it is the failure). An unknown email costs
 * a check against the decoy hash all the same. A failure that locked a counter goes to the audit
 * log, in a transaction of its own: the lock itself was committed by the reservation.
 */
export async function checkPasswordThrottled(deps: UsersDomain, emailKey: string, password: string, clientIp: string | undefined): Promise<User | null> {
  const attempt = await reserveLoginAttempt(deps.prisma, deps.throttle, emailKey, clientIp);
  const user = await deps.prisma.user.findUnique({ where: { email: emailKey } });
  const valid = await deps.passwords.verify(user ? user.passwordHash : await decoyHash(), password);
  if (user && valid) {
    await attempt.giveBack();
    return user;
  }
  if (attempt.locked.length) {
    // Ids only: the email and the address are personal data, and the log is never erased.
    const details = { counters: attempt.locked.join(','), lockoutSeconds: deps.throttle.lockoutSeconds };
    await deps.prisma.$transaction((tx) => appendAudit(tx, usersAudit(null, 'users.login.lockout', user?.id ?? null, details)));
  }
  return null;
}

const updateProfileInput = z.object({ name: name.nullish() });

export async function updateProfile(deps: UsersDomain, userId: string, input: unknown): Promise<User> {
  const data = parseInput(updateProfileInput, input);
  const changes = data.name ? { name: data.name } : {};
  // An account deleted since its token was issued is NOT_FOUND, not a failed update.
  const [user] = Object.keys(changes).length
    ? await deps.prisma.user.updateManyAndReturn({ where: { id: userId }, data: changes })
    : [await deps.prisma.user.findUnique({ where: { id: userId } })];
  if (!user) throw notFound('User', userId);
  // User.name is on catalog pages (Course.instructor): cached ones go stale before this answers.
  if (changes.name) await deps.catalogChanged();
  return user;
}

const changePasswordInput = z.object({ currentPassword: z.string(), newPassword: password });

/** Changes the password and ends every other session, so a thief with an old refresh token is out. */
export async function changePassword(deps: UsersDomain, viewer: { id: string; sessionId: string }, input: unknown): Promise<User> {
  const data = parseInput(changePasswordInput, input);
  const user = await deps.prisma.user.findUnique({ where: { id: viewer.id } });
  if (!user) throw notFound('User', viewer.id);
  if (!(await deps.passwords.verify(user.passwordHash, data.currentPassword))) {
    throw badUserInput('input.currentPassword', 'input.currentPassword: does not match your current password.');
  }
  const updated = await deps.prisma.user.update({
    where: { id: user.id },
    data: { passwordHash: await hashPassword(data.newPassword) },
  });
  await endSessions(deps, { userId: user.id, keepSessionId: viewer.sessionId }, 'PASSWORD_CHANGED');
  return updated;
}
