/**
 * The registry of subgraph services the stack runs, in start order (a service may need the URL of
 * one started before it). Adding a subgraph to the embedded default and the test harness means
 * adding one entry here and one to supergraph.yaml.
 */
import type { Env, Logger } from '@campus/kit/core';
import type { SessionRevocations } from '@campus/kit/identity';
import type { EventBus, PubSub } from '@campus/kit/events';
import type { SubgraphServer } from '@campus/kit/subgraph';
import { loadConfig as loadUsersConfig } from '@campus/users/config';
import { createUsersService } from '@campus/users/service';
import { JWKS_PATH } from '@campus/users/server';
import { loadConfig as loadCoursesConfig } from '@campus/courses/config';
import { createCoursesService } from '@campus/courses/service';
import { loadConfig as loadPaymentsConfig } from '@campus/payments/config';
import { createPaymentsService } from '@campus/payments/service';
import { seedPayments } from '@campus/payments/seed';
import { seedUsers } from '@campus/users/seed';
import { seedCourses } from '@campus/courses/seed';
import { seedSize } from '@campus/kit/core';

export interface RunningService {
  server: SubgraphServer;
  /** Seeds demo data when the service's database is empty; returns what it created. */
  seedIfEmpty(scale: number): Promise<Record<string, number> | null>;
  /** Calls `listener` with every SQL statement the service sends its database (tests count them). */
  onStatement?(listener: (sql: string, params: string) => void): () => void;
  close(): Promise<void>;
}

/** What the stack creates once and hands to every service it runs in this process. */
export interface SharedInfra {
  pubsub: PubSub;
  bus: EventBus;
  /** Ended sessions: users records them, the router and every subgraph refuse their tokens. */
  revocations: SessionRevocations;
}

export interface ServiceDefinition {
  /** Same name everywhere: folder, supergraph.yaml key, package, env prefix, log field. */
  name: string;
  start(env: Env, logger: Logger, shared: SharedInfra): Promise<RunningService>;
}

export const SERVICE_DEFINITIONS: ServiceDefinition[] = [
  {
    name: 'users',
    async start(env, logger, shared) {
      const service = await createUsersService(loadUsersConfig(env), logger, { pubsub: shared.pubsub, revocations: shared.revocations });
      return {
        ...service,
        async seedIfEmpty(scale) {
          if ((await service.prisma.user.count()) > 0) return null;
          return { users: (await seedUsers(service.prisma, seedSize(scale))).created };
        },
      };
    },
  },
  {
    name: 'courses',
    async start(env, logger, shared) {
      // Tokens are verified with the keys of the users service started before, unless JWKS_URL says otherwise.
      const config = loadCoursesConfig({ ...env, JWKS_URL: env.JWKS_URL ?? (env.USERS_URL && `${env.USERS_URL}${JWKS_PATH}`) });
      const service = await createCoursesService(config, logger, { pubsub: shared.pubsub, bus: shared.bus, revocations: shared.revocations });
      return {
        ...service,
        async seedIfEmpty(scale) {
          if ((await service.prisma.course.count()) > 0) return null;
          return seedCourses(service.prisma, scale);
        },
      };
    },
  },
  {
    // After courses: checkout asks courses (COURSES_URL) for the price at that moment.
    name: 'payments',
    async start(env, logger, shared) {
      const service = await createPaymentsService(loadPaymentsConfig(env), shared, logger);
      return {
        ...service,
        async seedIfEmpty(scale) {
          if ((await service.prisma.payment.count()) > 0) return null;
          return seedPayments(service.prisma, scale);
        },
      };
    },
  },
];
