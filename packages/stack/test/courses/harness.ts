/**
 * The courses service on its own, for integration tests: a real database (a throwaway PostgreSQL
 * database with TEST_DATABASE_URL, else in-memory PGlite), a real in-process pub/sub, its HTTP and
 * graphql-ws server on a free port, and real access tokens signed the way the users service signs
 * them. Requests reach it signed as the router signs them, with a router key made for the harness. Tests that need the router or the users
 * service run the whole stack (*.e2e.test.ts).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createLogger, seedUuid } from '@campus/kit/core';
import { createMemorySessionRevocations, createRequestSigner, generateServiceKeyPem, localTokenVerifier, publicJwks, type Role } from '@campus/kit/identity';
import { createMemoryPubSub, type EventBus, type PubSub } from '@campus/kit/events';
import { ROUTER_ISSUER } from '@campus/kit/subgraph';
import { createTestDatabases } from '@campus/stack/test-databases';
import { signedSubgraphRequest, type GraphQLResponse } from '@campus/stack/testing';
import { connectWs, signedUpgradeHeaders, type WsConnection } from '@campus/stack/ws-testing';
import { issueAccessToken } from '@campus/users/sessions';
import { loadSigningKeys } from '@campus/users/signing-keys';
import { loadConfig } from '@campus/courses/config';
import { createCoursesService, type CoursesService } from '@campus/courses/service';

const ROUTER_KEY = generateServiceKeyPem();
/** Signs as the router does, for the courses service. */
export const AS_ROUTER = { signer: createRequestSigner(ROUTER_ISSUER, [ROUTER_KEY]), audience: 'courses' };

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
  const keys = await loadSigningKeys({});
  const pubsub = createMemoryPubSub();
  const revocations = createMemorySessionRevocations({ ttlSeconds: 3_660 });
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ROUTER_JWKS: JSON.stringify(publicJwks([ROUTER_KEY])), ...databases.env });
  const service = await createCoursesService(config, createLogger('courses', process.env.TEST_LOG_LEVEL ?? 'silent'), {
    pubsub,
    ...(options.bus ? { bus: options.bus } : {}),
    // Tokens are verified as the users service's own are: claims, lifetime and ended sessions.
    verifyToken: localTokenVerifier(keys.jwks, { revocations, maxLifetimeSeconds: config.sessions.maxLifetimeSeconds }),
    revocations,
  });
  await new Promise<void>((resolve) => service.server.httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(service.server.httpServer.address() as AddressInfo).port}/graphql`;
  const sessions = { keys, accessTokenTtlSeconds: 900, refreshTokenTtlDays: 1 };
  const sockets: WsConnection[] = [];

  return {
    service,
    pubsub,
    url,
    async person(name, role) {
      const id = seedUuid(`test-person:${name}`);
      const { accessToken } = await issueAccessToken(sessions, { id, role }, randomUUID());
      return { id, role, token: accessToken };
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

/** Fails the test with the response's errors instead of a bare "undefined" later. */
export function ok<T = any>(response: GraphQLResponse<T>): T {
  if (response.errors?.length || !response.data) throw new Error(`unexpected errors: ${JSON.stringify(response.errors)}`);
  return response.data;
}
