/**
 * Assembles the users service from its config: database (migrated), Prisma client, signing keys,
 * server. Used by index.ts (its own process) and by the embedded stack (all services in one).
 */
import { createLogger, createPubSub, createStatementTap, openServiceDatabase, type Logger, type PubSub, type StatementTap, type SubgraphServer } from '@campus/kit';
import type { UsersConfig } from './config.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { createServer } from './server.ts';
import { loadSigningKeys } from './signing-keys.ts';

export const MIGRATIONS_DIR = new URL('../../../prisma/users/migrations', import.meta.url).pathname;

export interface UsersService {
  server: SubgraphServer;
  prisma: PrismaClient;
  /** Every SQL statement the service sends its database (tests count them). */
  onStatement: StatementTap['onStatement'];
  close(): Promise<void>;
}

export interface UsersServiceDeps {
  /**
   * The pub/sub to publish session events on. The embedded stack passes the one all its services
   * share; absent, the service opens its own from REDIS_URL (or in memory) and closes it on close.
   */
  pubsub?: PubSub;
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
  const server = createServer({ config, prisma, keys, logger, pubsub });
  await server.start();
  return {
    server,
    prisma,
    onStatement: statements.onStatement,
    async close() {
      await server.stop();
      await ownPubSub?.close();
      await prisma.$disconnect();
      await db.close();
    },
  };
}
