/**
 * Login throttling per account and per client address (DOMAIN.md U4; Open edX locks an account
 * after 6 failures for 30 minutes). Counters live in the database so every instance of the service
 * sees the same ones, and each failure is one atomic upsert so concurrent guesses cannot slip past.
 */
import { rateLimited } from '@campus/kit';
import type { PrismaClient } from './generated/prisma/client.ts';

export interface ThrottleSettings {
  maxFailures: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  lockoutSeconds: number;
}

export const accountKey = (email: string) => `account:${email}`;
export const ipKey = (ip: string) => `ip:${ip}`;

/** Throws RATE_LIMITED, saying when to retry, if any of the keys is locked out. */
export async function assertNotThrottled(prisma: PrismaClient, keys: string[]): Promise<void> {
  const now = new Date();
  const locked = await prisma.loginThrottle.findMany({ where: { key: { in: keys }, lockedUntil: { gt: now } } });
  if (locked.length === 0) return;
  const until = Math.max(...locked.map((l) => l.lockedUntil!.getTime()));
  const seconds = Math.ceil((until - now.getTime()) / 1000);
  throw rateLimited(
    seconds,
    `Too many failed login attempts. Try again in ${seconds} seconds (after ${new Date(until).toISOString()}).`,
  );
}

export async function recordFailure(prisma: PrismaClient, key: string, max: number, settings: ThrottleSettings) {
  await prisma.$executeRaw`
    INSERT INTO "LoginThrottle" ("key", "failures", "windowStart", "lockedUntil", "updatedAt")
    VALUES (${key}, 1, now(), CASE WHEN 1 >= ${max} THEN now() + make_interval(secs => ${settings.lockoutSeconds}) END, now())
    ON CONFLICT ("key") DO UPDATE SET
      "failures" = CASE WHEN "LoginThrottle"."windowStart" < now() - make_interval(secs => ${settings.windowSeconds})
                        THEN 1 ELSE "LoginThrottle"."failures" + 1 END,
      "windowStart" = CASE WHEN "LoginThrottle"."windowStart" < now() - make_interval(secs => ${settings.windowSeconds})
                           THEN now() ELSE "LoginThrottle"."windowStart" END,
      "lockedUntil" = CASE WHEN (CASE WHEN "LoginThrottle"."windowStart" < now() - make_interval(secs => ${settings.windowSeconds})
                                      THEN 1 ELSE "LoginThrottle"."failures" + 1 END) >= ${max}
                           THEN now() + make_interval(secs => ${settings.lockoutSeconds})
                           ELSE "LoginThrottle"."lockedUntil" END,
      "updatedAt" = now()`;
}

/** A successful login clears the account's counter (not the address's: one good password must not unlock guessing). */
export async function clearAccount(prisma: PrismaClient, email: string) {
  await prisma.loginThrottle.deleteMany({ where: { key: accountKey(email) } });
}
