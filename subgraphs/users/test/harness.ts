/**
 * The users service on its own, for integration tests: a real database (a throwaway PostgreSQL
 * database with TEST_DATABASE_URL, else in-memory PGlite), an in-process bus, pub/sub and
 * revocation store the test can reach, its HTTP server on a free port. Requests reach it signed as
 * the router signs them, with a router key made for the harness. Courses and payments do not run:
 * a test plays them by publishing their events on `bus` (tests that need them run the whole stack,
 * packages/stack/test).
 */
import type { AddressInfo } from 'node:net';
import { createLogger, type Env } from '@campus/kit/core';
import { createMemoryEventBus, createMemoryPubSub, type DomainEvent, type EventBus } from '@campus/kit/events';
import { createMemorySessionRevocations, ROUTER_ISSUER, type SessionRevocations } from '@campus/kit/identity';
import { createTestDatabases, signedSubgraphRequest, throwawaySigner, type GraphQLResponse, type TestDatabases } from '@campus/test-kit';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config.ts';
import { createUsersService, type UsersService } from '../src/service.ts';

const ROUTER = throwawaySigner(ROUTER_ISSUER);
const AS_ROUTER = ROUTER.as('users');

export interface Account {
  id: string;
  email: string;
  password: string;
  token: string;
}

export interface UsersHarness {
  service: UsersService;
  bus: EventBus;
  revocations: SessionRevocations;
  url: string;
  /** A signed request, as the router sends it; `as` a token (or nothing: anonymous). */
  request<T = any>(query: string, options?: { token?: string; variables?: Record<string, unknown> }): Promise<GraphQLResponse<T>>;
  /** Signs up a fresh STUDENT account (unique email) and returns it with a token. */
  signUp(label: string): Promise<Account>;
  /** An account of the given role: signed up, promoted in the database, logged in again. */
  account(label: string, role: 'STUDENT' | 'ADMIN'): Promise<Account>;
  /** Publishes an event as another service would (the contract's envelope). */
  publish(type: string, payload: Record<string, unknown>, id?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startUsers(options: { env?: Env; database?: TestDatabases } = {}): Promise<UsersHarness> {
  const database = options.database ?? (await createTestDatabases(process.env.TEST_DATABASE_URL, ['users']));
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ROUTER_JWKS: ROUTER.jwks, USERS_POLL_INTERVAL_MS: '50', ...database.env, ...options.env });
  const bus = createMemoryEventBus();
  const pubsub = createMemoryPubSub();
  const revocations = createMemorySessionRevocations({ ttlSeconds: 3_660 });
  const service = await createUsersService(config, { bus, pubsub, revocations }, createLogger('users', process.env.TEST_LOG_LEVEL ?? 'silent'));
  await new Promise<void>((resolve) => service.server.httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(service.server.httpServer.address() as AddressInfo).port}/graphql`;
  const request: UsersHarness['request'] = (query, { token, variables } = {}) =>
    signedSubgraphRequest(url, AS_ROUTER, query, { token, ...(variables ? { variables } : {}) });

  const logIn = async (email: string, password: string) => {
    const r = await request(`mutation($i: LogInInput!) { logIn(input: $i) { accessToken user { id } } }`, { variables: { i: { email, password } } });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data.logIn as { accessToken: string; user: { id: string } };
  };
  const signUp = async (label: string): Promise<Account> => {
    const email = `${label}-${randomUUID().slice(0, 8)}@users.test`;
    const password = `pw-${randomUUID()}`;
    const r = await request(`mutation($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } } }`, { variables: { i: { email, password, name: label } } });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return { id: r.data.signUp.user.id, email, password, token: r.data.signUp.accessToken };
  };

  return {
    service,
    bus,
    revocations,
    url,
    request,
    signUp,
    async account(label, role) {
      const a = await signUp(label);
      if (role === 'STUDENT') return a;
      await service.prisma.user.update({ where: { id: a.id }, data: { role } });
      return { ...a, token: (await logIn(a.email, a.password)).accessToken };
    },
    async publish(type, payload, id = randomUUID()) {
      const event: DomainEvent = { id, type, occurredAt: new Date().toISOString(), payload };
      await bus.publish(event);
      return id;
    },
    async close() {
      await service.close();
      await bus.close();
      await pubsub.close();
      await revocations.close();
      if (!options.database) await database.drop();
    },
  };
}
