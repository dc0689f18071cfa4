/**
 * Login throttling per account and per client address (Open edX, for comparison, locks an account
 * after 6 failures for 30 minutes). Counters live in the database so every instance of the service
 * sees the same ones.
 *
 * An attempt is reserved before its password is checked, and Argon2 runs only once both of its
 * reservations (the client address's, then the account's) are held. Reserving is one atomic
 * upsert per key that counts the attempt only while the key is unlocked and under its limit, and
 * locks the key as the count reaches the limit. However many attempts arrive at once, PostgreSQL
 * serialises them on the key's row, so at most `limit` passwords are checked per key and window.
 * Counting after the check instead (as this service once did) let 60 parallel guesses have 16
 * passwords checked before the first failure was recorded.
 *
 * A failed attempt keeps its reservation: it is the failure. A successful one gives it back, and so
 * does an attempt refused by its other key (no password was checked). Giving back forgives only
 * that attempt, not the window's other failures: those may be someone else's guesses still running.
 * A lockout that has ended starts a fresh window.
 *
 * The address is the one the router trusts (TRUST_PROXY, router/src/edge/trust-proxy.ts), bucketed
 * like the router's own rate limits (packages/kit/src/core/client-address.ts).
 */
import { rateLimited } from '@campus/kit/core';
import { addressKey } from '@campus/kit/core';
import { Prisma, type PrismaClient } from './generated/prisma/client.ts';

export interface ThrottleSettings {
  maxFailures: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  lockoutSeconds: number;
}

export const accountKey = (email: string) => `account:${email}`;
export const ipKey = (ip: string) => `ip:${addressKey(ip)}`;

interface Counter {
  kind: 'account' | 'address';
  key: string;
  limit: number;
}

/** What a reserved attempt holds; give it back when the password was right. */
export interface LoginAttempt {
  giveBack(): Promise<void>;
  /**
   * The counters this attempt locked by reaching their limit: if its password turns out wrong, it
   * is the failure that caused a lockout, which goes to the audit log (accounts.ts).
   */
  locked: ('account' | 'address')[];
}

/**
 * Reserves one attempt on the client address's counter and then on the account's, or throws
 * RATE_LIMITED, saying when to retry, without checking anything. Address first: an address that
 * is locked out never touches the account's counter, not even for a moment.
 */
export async function reserveLoginAttempt(
  prisma: PrismaClient,
  settings: ThrottleSettings,
  email: string,
  clientIp: string | undefined,
): Promise<LoginAttempt> {
  const counters: Counter[] = [
    ...(clientIp ? [{ kind: 'address' as const, key: ipKey(clientIp), limit: settings.maxFailuresPerIp }] : []),
    { kind: 'account', key: accountKey(email), limit: settings.maxFailures },
  ];
  const held: Counter[] = [];
  const locked: LoginAttempt['locked'] = [];
  for (const counter of counters) {
    const failures = await reserve(prisma, counter, settings);
    if (failures === null) {
      await giveBack(prisma, held);
      throw await refusal(prisma, counter.key);
    }
    held.push(counter);
    if (failures >= counter.limit) locked.push(counter.kind);
  }
  return { giveBack: () => giveBack(prisma, held), locked };
}

/**
 * One statement: counts the attempt unless the key is locked or at its limit, starting a fresh
 * window when the last one (or its lockout) is over, and locks the key when this attempt reaches
 * the limit. The key's failures with this attempt counted, or null when it was not counted.
 */
async function reserve(prisma: PrismaClient, { key, limit }: Counter, settings: ThrottleSettings): Promise<number | null> {
  const lockout = Prisma.sql`now() + make_interval(secs => ${settings.lockoutSeconds})`;
  const fresh = Prisma.sql`(COALESCE(t."lockedUntil" <= now(), false) OR t."windowStart" <= now() - make_interval(secs => ${settings.windowSeconds}))`;
  const next = Prisma.sql`(CASE WHEN ${fresh} THEN 1 ELSE t."failures" + 1 END)`;
  const rows = await prisma.$queryRaw<{ failures: number }[]>`
    INSERT INTO "LoginThrottle" AS t ("key", "failures", "windowStart", "lockedUntil", "updatedAt")
    VALUES (${key}, 1, now(), CASE WHEN 1 >= ${limit} THEN ${lockout} END, now())
    ON CONFLICT ("key") DO UPDATE SET
      "failures" = ${next},
      "windowStart" = CASE WHEN ${fresh} THEN now() ELSE t."windowStart" END,
      "lockedUntil" = CASE WHEN ${next} >= ${limit} THEN ${lockout} END,
      "updatedAt" = now()
    WHERE NOT COALESCE(t."lockedUntil" > now(), false) AND (${fresh} OR t."failures" < ${limit})
    RETURNING t."failures"`;
  return rows.length === 1 ? Number(rows[0]!.failures) : null;
}

/** Uncounts one attempt per key, lifting the lock it may have set (the count is under the limit again). */
async function giveBack(prisma: PrismaClient, counters: Counter[]): Promise<void> {
  for (const { key, limit } of counters) {
    await prisma.$executeRaw`
      UPDATE "LoginThrottle" SET
        "failures" = GREATEST("failures" - 1, 0),
        "lockedUntil" = CASE WHEN "failures" - 1 < ${limit} THEN NULL ELSE "lockedUntil" END,
        "updatedAt" = now()
      WHERE "key" = ${key}`;
  }
}

/** RATE_LIMITED with the wait until the key's lockout ends, in whole seconds (at least 1), by the database's clock. */
async function refusal(prisma: PrismaClient, key: string) {
  const [row] = await prisma.$queryRaw<{ seconds: number | null; until: Date | null }[]>`
    SELECT CEIL(EXTRACT(EPOCH FROM ("lockedUntil" - now())))::int AS "seconds", "lockedUntil" AS "until"
      FROM "LoginThrottle" WHERE "key" = ${key}`;
  // No lock to wait for: an attempt in flight holds the last of the budget and may give it back.
  const seconds = Math.max(1, row?.seconds ?? 1);
  const until = row?.until ?? new Date(Date.now() + seconds * 1000);
  return rateLimited(seconds, `Too many failed login attempts. Try again in ${seconds} seconds (after ${until.toISOString()}).`);
}
