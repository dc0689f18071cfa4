/**
 * Assembles the users service from its config: database (migrated), Prisma client, signing keys,
 * server. Used by index.ts (its own process) and by the embedded stack (all services in one).
 */
import { createLogger, type Logger } from '@campus/kit/core';
import { createSessionRevocations, type SessionRevocations } from '@campus/kit/identity';
import { createPubSub, type PubSub } from '@campus/kit/events';
import { createStatementTap, openServiceDatabase, type StatementTap, type SubgraphServer } from '@campus/kit/subgraph';
import type { UsersConfig } from './config.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { createPasswordVerifier } from './passwords.ts';
import { createServer } from './server.ts';
import { loadSigningKeys } from './signing-keys.ts';

export const MIGRATIONS_DIR = new URL('../prisma/migrations', import.meta.url).pathname;

export interface UsersService {
  server: SubgraphServer;
  prisma: PrismaClient;
  /** Every SQL statement the service sends its database (tests count them). */
  onStatement: StatementTap['onStatement'];
  /** How many passwords this instance has checked with Argon2 (tests show throttling bounds it). */
  passwordVerifications(): number;
  close(): Promise<void>;
}

export interface UsersServiceDeps {
  /**
   * The pub/sub to publish session events on. The embedded stack passes the one all its services
   * share; absent, the service opens its own from REDIS_URL (or in memory) and closes it on close.
   */
  pubsub?: PubSub;
  /**
   * Where ended sessions are recorded. The embedded stack passes the one its router and every
   * service check; absent, the service opens its own from config.sessions (Redis or in memory).
   */
  revocations?: SessionRevocations;
}

export async function createUsersService(
  config: UsersConfig,
  logger: Logger = createLogger('users', config.logLevel),
  deps: UsersServiceDeps = {},
): Promise<UsersService> {
  const db = await openServiceDatabase(config, MIGRATIONS_DIR, logger);
  const prisma = new PrismaClient({ adapter: db.adapter, log: [{ emit: 'event', level: 'query' }] });
  const statements = createStatementTap();
  prisma.$on('query', (e) => statements.emit(e.query, e.params));
  const keys = await loadSigningKeys({ pem: config.jwtPrivateKeyPem, dataDir: config.dataDir });
  const ownPubSub = deps.pubsub ? undefined : createPubSub({ redisUrl: config.redisUrl, prefix: config.redisPubSubPrefix, logger });
  const pubsub = deps.pubsub ?? ownPubSub!;
  const passwords = createPasswordVerifier();
  const ownRevocations = deps.revocations ? undefined : createSessionRevocations(config.sessions, { logger, warnIfLocal: config.production });
  const revocations = deps.revocations ?? ownRevocations!;
  const server = createServer({ config, prisma, keys, logger, pubsub, passwords, revocations });
  await server.start();
  return {
    server,
    prisma,
    onStatement: statements.onStatement,
    passwordVerifications: passwords.verifications,
    async close() {
      await server.stop();
      await ownPubSub?.close();
      await ownRevocations?.close();
      await prisma.$disconnect();
      await db.close();
    },
  };
}
