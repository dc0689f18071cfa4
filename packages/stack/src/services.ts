/**
 * The registry of subgraph services the stack runs, in start order (a service may need the URL of
 * one started before it). Adding a subgraph to the embedded default and the test harness means
 * adding one entry here and one to supergraph.yaml.
 */
import type { Env, EventBus, Logger, PubSub, SubgraphServer } from '@campus/kit';
import { loadConfig as loadUsersConfig } from '@campus/users/config';
import { createUsersService } from '@campus/users/service';
import { seedUsers } from '../../../prisma/users/seed.ts';
import { seedSize } from '@campus/kit';

export interface RunningService {
  server: SubgraphServer;
  /** Seeds demo data when the service's database is empty; returns what it created. */
  seedIfEmpty(scale: number): Promise<Record<string, number> | null>;
  close(): Promise<void>;
}

/** What the stack creates once and hands to every service it runs in this process. */
export interface SharedInfra {
  pubsub: PubSub;
  bus?: EventBus;
}

export interface ServiceDefinition {
  /** Same name everywhere: folder, supergraph.yaml key, package, env prefix, log field. */
  name: string;
  start(env: Env, logger: Logger, shared: SharedInfra): Promise<RunningService>;
}

export const SERVICE_DEFINITIONS: ServiceDefinition[] = [
  {
    name: 'users',
    async start(env, logger) {
      const service = await createUsersService(loadUsersConfig(env), logger);
      return {
        ...service,
        async seedIfEmpty(scale) {
          if ((await service.prisma.user.count()) > 0) return null;
          return { users: (await seedUsers(service.prisma, seedSize(scale))).created };
        },
      };
    },
  },
];
