/**
 * The courses service on its own, for integration tests: a real database (a throwaway PostgreSQL
 * database with TEST_DATABASE_URL, else in-memory PGlite), a real in-process pub/sub, its HTTP and
 * graphql-ws server on a free port, and access tokens minted by the test kit in the shape the users
 * service issues them. Requests reach it signed as the router signs them, with a router key made
 * for the harness. Tests that need the router or the users service run the whole stack
 * (*.e2e.test.ts).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createLogger, seedUuid } from '@campus/kit/core';
import { createMemorySessionRevocations, localTokenVerifier, type Role } from '@campus/kit/identity';
import { createMemoryPubSub, type EventBus, type PubSub } from '@campus/kit/events';
import { ROUTER_ISSUER } from '@campus/kit/identity';
import {
  connectWs,
  createTestDatabases,
  createTokenMinter,
  signedSubgraphRequest,
  signedUpgradeHeaders,
  throwawaySigner,
  type GraphQLResponse,
  type WsConnection,
} from '@campus/test-kit';
import { loadConfig } from '@campus/courses/config';
import { createCoursesService, type CoursesService } from '@campus/courses/service';

const ROUTER = throwawaySigner(ROUTER_ISSUER);
/** Signs as the router does, for the courses service. */
export const AS_ROUTER = ROUTER.as('courses');

export interface Person {
  id: string;
  role: Role;
  token: string;
}

export interface CoursesHarness {
  service: CoursesService;
  pubsub: PubSub;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** A user with a valid access token; the same name gives the same user within a test file. */
  person(name: string, role: Role): Promise<Person>;
  /** A signed request, as the router would send it; `as` omitted = anonymous. */
  request<T = any>(query: string, options?: { as?: Person; variables?: Record<string, unknown> }): Promise<GraphQLResponse<T>>;
  /** A graphql-ws connection with a router-signed upgrade. */
  ws(as?: Person): Promise<WsConnection>;
  close(): Promise<void>;
}

export async function startCourses(options: { bus?: EventBus } = {}): Promise<CoursesHarness> {
  const databases = await createTestDatabases(process.env.TEST_DATABASE_URL, ['courses']);
  const tokens = await createTokenMinter();
  const pubsub = createMemoryPubSub();
  const revocations = createMemorySessionRevocations({ ttlSeconds: 3_660 });
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ROUTER_JWKS: ROUTER.jwks, ...databases.env });
  const service = await createCoursesService(
    config,
    {
      pubsub,
      ...(options.bus ? { bus: options.bus } : {}),
      // Tokens are verified as the users service's own are: claims, lifetime and ended sessions.
      verifyToken: localTokenVerifier(tokens.jwks, { revocations, maxLifetimeSeconds: config.sessions.maxLifetimeSeconds }),
      revocations,
    },
    createLogger('courses', process.env.TEST_LOG_LEVEL ?? 'silent'),
  );
  await new Promise<void>((resolve) => service.server.httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(service.server.httpServer.address() as AddressInfo).port}/graphql`;
  const sockets: WsConnection[] = [];

  return {
    service,
    pubsub,
    url,
    async person(name, role) {
      const id = seedUuid(`test-person:${name}`);
      return { id, role, token: await tokens.mint({ id, role, sessionId: randomUUID(), lifetimeSeconds: 900 }) };
    },
    request(query, { as, variables } = {}) {
      return signedSubgraphRequest(url, AS_ROUTER, query, { token: as?.token, ...(variables ? { variables } : {}) });
    },
    async ws(as) {
      const connection = await connectWs(url, { headers: signedUpgradeHeaders(url, AS_ROUTER, as?.token) });
      sockets.push(connection);
      return connection;
    },
    async close() {
      for (const s of sockets) await s.close();
      await service.close();
      await pubsub.close();
      await revocations.close();
      await databases.drop();
    },
  };
}

export { ok } from '@campus/test-kit';
