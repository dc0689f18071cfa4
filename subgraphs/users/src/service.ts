/**
 * The users service, defined once (docs/service-shape.md): config, migrations, how it is built
 * from shared infrastructure, and its demo seed. index.ts runs it as its own process; the embedded
 * stack runs it beside the others.
 */
import { createLogger, type Logger } from '@campus/kit/core';
import { createSessionRevocations } from '@campus/kit/identity';
import { createPubSub, liveUpdateCounts } from '@campus/kit/events';
import { createStatementTap, defineService, instrumentSubgraph, openServiceDatabase, type RunningService, type ServiceInfra } from '@campus/kit/subgraph';
import { loadConfig, type UsersConfig } from './config.ts';
import type { UsersDomain } from './domain.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { liveUpdates } from './live-updates.ts';
import { createPasswordVerifier } from './passwords.ts';
import { seed, seedIfEmpty } from './seed.ts';
import { createServer } from './server.ts';
import { loadSigningKeys } from './signing-keys.ts';

export const MIGRATIONS_DIR = new URL('../prisma/migrations', import.meta.url).pathname;

export interface UsersService extends RunningService {
  prisma: PrismaClient;
  domain: UsersDomain;
  /** How many passwords this instance has checked with Argon2 (tests show throttling bounds it). */
  passwordVerifications(): number;
}

/**
 * Users uses the pub/sub (session events) and the revocation store (it records ended sessions);
 * no bus. It verifies access tokens with its own keys, so `infra.verifyToken` is not used.
 */
export async function createUsersService(
  config: UsersConfig,
  infra: ServiceInfra = {},
  logger: Logger = createLogger('users', config.logLevel),
): Promise<UsersService> {
  const db = await openServiceDatabase(config, MIGRATIONS_DIR, logger);
  // Query events cost an event object per statement; they let tests and operators count round trips.
  const prisma = new PrismaClient({ adapter: db.adapter, log: [{ emit: 'event', level: 'query' }] });
  const statements = createStatementTap();
  prisma.$on('query', (e) => statements.emit(e.query, e.params, e.duration));
  const keys = await loadSigningKeys({ pem: config.jwtPrivateKeyPem, dataDir: config.dataDir });
  const ownPubSub = infra.pubsub ? undefined : createPubSub({ redisUrl: config.redisUrl, prefix: config.redisPubSubPrefix, logger });
  const pubsub = infra.pubsub ?? ownPubSub!;
  const ownRevocations = infra.revocations ? undefined : createSessionRevocations(config.sessions, { logger, warnIfLocal: config.production });
  const revocations = infra.revocations ?? ownRevocations!;
  const passwords = createPasswordVerifier();
  const published = liveUpdateCounts();
  const domain: UsersDomain = {
    prisma,
    sessions: { keys, accessTokenTtlSeconds: config.accessTokenTtlSeconds, refreshTokenTtlDays: config.refreshTokenTtlDays },
    throttle: config.throttle,
    passwords,
    live: liveUpdates(pubsub, logger, published),
    revocations,
  };
  const server = createServer({ config, domain, keys, logger, pubsub, revocations });
  await server.start();
  const metrics = await instrumentSubgraph(server, config, { statements, loaders: prisma, liveUpdates: published });
  return {
    server,
    prisma,
    domain,
    onStatement: statements.onStatement,
    passwordVerifications: passwords.verifications,
    async close() {
      await server.stop();
      await metrics.close();
      await ownPubSub?.close();
      await ownRevocations?.close();
      await prisma.$disconnect();
      await db.close();
    },
  };
}

export const usersService = defineService({
  name: 'users',
  loadConfig,
  migrationsDir: MIGRATIONS_DIR,
  create: createUsersService,
  seed: {
    ifEmpty: (service, scale) => seedIfEmpty(service.prisma, scale),
    into: seed,
  },
});
