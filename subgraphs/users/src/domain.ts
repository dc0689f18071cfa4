/**
 * What the users service's domain functions (accounts.ts, authority.ts, sessions.ts, and the
 * privacy side: data-export.ts, account-deletion.ts, erasure.ts) work with: built once per service
 * in service.ts, reached by resolvers as `ctx.domain`.
 */
import type { Logger } from '@campus/kit/core';
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
  /** Data export and account deletion settings (config.ts, docs/privacy.md). */
  privacy: PrivacySettings;
  /** Call after committing outbox rows: the relay publishes them now rather than at its next poll. */
  outboxCommitted(): void;
  /**
   * Call after committing a change to what anonymous catalog readers see of a user (an instructor's
   * name): the router's cached catalog answers are not served again once this resolves
   * (packages/kit/src/events/catalog-generation.ts).
   */
  catalogChanged(): Promise<void>;
  logger: Logger;
}

export interface PrivacySettings {
  /** How long a READY export keeps its document. */
  exportTtlSeconds: number;
  /** How long a SCHEDULED deletion waits before the erasure starts. */
  coolOffSeconds: number;
}
