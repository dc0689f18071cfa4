/**
 * Two instances of the users service, as in production behind a load balancer: a session event
 * raised through instance A reaches a subscriber connected to instance B. With TEST_REDIS_URL each
 * instance has its own Redis pub/sub connection (separate processes would); without it they share
 * the in-process pub/sub, the embedded default's topology.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@campus/kit/core';
import { createRequestSigner, generateServiceKeyPem, publicJwks } from '@campus/kit/identity';
import { createMemoryPubSub, createRedisPubSub, type PubSub } from '@campus/kit/events';
import { ROUTER_ISSUER } from '@campus/kit/identity';
import { connectWs, createTestDatabases, signedSubgraphRequest, signedUpgradeHeaders, type TestDatabases, waitFor, type WsConnection } from '@campus/test-kit';
import { decodeJwt, exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@campus/users/config';
import { createUsersService, type UsersService } from '@campus/users/service';

const routerKey = generateServiceKeyPem();
const asRouter = { signer: createRequestSigner(ROUTER_ISSUER, [routerKey]), audience: 'users' };
const redisUrl = process.env.TEST_REDIS_URL;

describe(`session events across two users instances (${redisUrl ? 'Redis' : 'in-process'} pub/sub)`, () => {
  let databases: TestDatabases;
  const pubsubs: PubSub[] = [];
  const instances: { service: UsersService; url: string }[] = [];
  let subscriber: WsConnection | undefined;

  beforeAll(async () => {
    databases = await createTestDatabases(process.env.TEST_DATABASE_URL, ['users']);
    // One signing key for both, as production configures it: B must accept A's tokens.
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const config = loadConfig({
      NODE_ENV: 'test',
      ROUTER_JWKS: JSON.stringify(publicJwks([routerKey])),
      USERS_JWT_PRIVATE_KEY: await exportPKCS8(privateKey),
      ...databases.env,
    });
    const prefix = `campus-test-${randomBytes(6).toString('hex')}:`;
    const shared = createMemoryPubSub();
    // Sequentially: both apply migrations to the same database when it is PostgreSQL.
    for (let i = 0; i < 2; i++) {
      const pubsub = redisUrl ? createRedisPubSub(redisUrl, { prefix }) : shared;
      pubsubs.push(pubsub);
      const service = await createUsersService(config, { pubsub }, createLogger('users', 'silent'));
      await new Promise<void>((r) => service.server.httpServer.listen(0, '127.0.0.1', () => r()));
      const { port } = service.server.httpServer.address() as AddressInfo;
      instances.push({ service, url: `http://127.0.0.1:${port}/graphql` });
    }
  });
  afterAll(async () => {
    await subscriber?.close();
    for (const { service } of instances) await service.close();
    await Promise.all([...new Set(pubsubs)].map((p) => p.close()));
    await databases?.drop();
  });

  it('delivers a logout done through instance A to the subscriber connected to instance B', async () => {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    const signUp = await signedSubgraphRequest(a.url, asRouter, 'mutation S($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken } }', {
      variables: { i: { email: `fanout-${randomBytes(4).toString('hex')}@campus.test`, password: 'long-enough-pw', name: 'Fan Out' } },
    });
    const { accessToken, refreshToken } = signUp.data.signUp;
    if (!process.env.TEST_DATABASE_URL) {
      // Each PGlite is its own database; production instances share one, and B checks a token's
      // session in it (sessions.ts currentViewer). Copy the account and its session over.
      const user = await a.service.prisma.user.findUniqueOrThrow({ where: { id: decodeJwt(accessToken).sub! }, include: { sessions: true } });
      const { sessions, ...row } = user;
      await b.service.prisma.user.create({ data: { ...row, sessions: { create: sessions.map(({ userId: _u, ...f }) => f) } } });
    }

    subscriber = await connectWs(b.url, { headers: signedUpgradeHeaders(b.url, asRouter, accessToken) });
    const events = subscriber.subscribe('subscription { mySessionEvents { reason reauthenticate } }');
    await waitFor(() => b.service.server.liveSubscriptions().subscriptions === 1, 'the subscription to be live on B');
    expect(a.service.server.liveSubscriptions().subscriptions).toBe(0);

    const logOut = await signedSubgraphRequest(a.url, asRouter, 'mutation L($t: String!) { logOut(input: { refreshToken: $t }) { success } }', {
      token: accessToken,
      variables: { t: refreshToken },
    });
    expect(logOut.data.logOut.success).toBe(true);
    expect((await events.nth(0)).data).toEqual({ mySessionEvents: { reason: 'LOGGED_OUT', reauthenticate: true } });
  });
});
