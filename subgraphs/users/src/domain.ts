/**
 * What the users service's domain functions (accounts.ts, authority.ts, sessions.ts) work with:
 * built once per service in service.ts, reached by resolvers as `ctx.domain`.
 */
import type { SessionRevocations } from '@campus/kit/identity';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { LiveUpdates } from './live-updates.ts';
import type { ThrottleSettings } from './login-throttle.ts';
import type { PasswordVerifier } from './passwords.ts';
import type { SessionSettings } from './sessions.ts';

export interface UsersDomain {
  prisma: PrismaClient;
  sessions: SessionSettings;
  throttle: ThrottleSettings;
  /** Every password check goes through it, counted (passwords.ts). */
  passwords: PasswordVerifier;
  /** Tells the user's open clients when their sessions end (Subscription.mySessionEvents). */
  live: LiveUpdates;
  /** Where ended sessions are recorded for every token verifier (packages/kit/src/identity/session-revocation.ts). */
  revocations: SessionRevocations;
}
