/**
 * Rotating the router's signing key without a failed request (docs/identity/service-identity.md):
 * publish the new key beside the old one, then sign with it, then drop the old one. Courses reads
 * the router's keys by URL from the published JWKS, as separate processes in production do; the
 * routers are real instances over the stack's subgraphs, serving traffic while the key changes.
 */
import type { AddressInfo } from 'node:net';
import { createLogger, type Env } from '@campus/kit/core';
import { generateServiceKeyPem, publicJwks, SERVICE_JWKS_PATH } from '@campus/kit/identity';
import { createRouter, type Router } from '@campus/router';
import { loadConfig } from '@campus/router/config';
import type { JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, graphql, type GraphQLResponse, waitFor, type WsConnection } from '@campus/test-kit';
import { startTestStack, type TestStack } from '../src/testing.ts';

const CATALOG = '{ courses(first: 3) { totalCount edges { node { id title } } } }';

interface RunningRouter {
  name: string;
  url: string;
  base: string;
  router: Router;
}

describe('rotating the router key', () => {
  const oldKey = generateServiceKeyPem();
  const newKey = generateServiceKeyPem();
  let stack: TestStack;
  const routers: RunningRouter[] = [];
  const sockets: WsConnection[] = [];

  /** A router instance over the stack's subgraphs, signing with the first of `keys` and publishing all. */
  async function startRouter(name: string, keys: string[], env: Env = {}): Promise<RunningRouter> {
    const config = loadConfig({
      NODE_ENV: 'test',
      ROUTER_SIGNING_KEYS: keys.join(''),
      SUPERGRAPH_PATH: stack.supergraphPath,
      JWKS_URL: `${stack.urls.users}/.well-known/jwks.json`,
      ...env,
    });
    const router = createRouter(config, { logger: createLogger('router', process.env.TEST_LOG_LEVEL ?? 'silent') });
    await new Promise<void>((r) => router.httpServer.listen(0, '127.0.0.1', () => r()));
    await router.start();
    const base = `http://127.0.0.1:${(router.httpServer.address() as AddressInfo).port}`;
    const running = { name, url: `${base}/graphql`, base, router };
    routers.push(running);
    return running;
  }

  beforeAll(async () => {
    // Persistent, so courses keeps its data when it restarts to read the router's keys by URL.
    stack = await startTestStack({ persistent: true, env: { ROUTER_SIGNING_KEYS: oldKey } });
  });
  afterAll(async () => {
    for (const s of sockets) await s.close();
    for (const r of routers) await r.router.stop();
    await stack?.close();
  });

  it('switches from the old key to the new one with no request refused, once both are published', async () => {
    // Step 1: the fleet publishes both keys and still signs with the old one.
    const before = await startRouter('before', [oldKey, newKey]);
    const published = (await (await fetch(`${before.base}${SERVICE_JWKS_PATH}`)).json()) as JSONWebKeySet;
    expect(published).toEqual(publicJwks([oldKey, newKey]));
    await stack.stopService('courses');
    await stack.startService('courses', { ROUTER_JWKS: `${before.base}${SERVICE_JWKS_PATH}` });

    // Traffic through every live instance, round robin, for the whole switch.
    const live: RunningRouter[] = [before];
    const answers = new Map<string, number>();
    const failures: { router: string; response: GraphQLResponse }[] = [];
    let running = true;
    const client = async () => {
      for (let i = 0; running; i++) {
        const target = live[i % live.length]!;
        const response = await graphql(target.url, CATALOG);
        if (response.status !== 200 || response.errors || !response.data?.courses) failures.push({ router: target.name, response });
        else answers.set(target.name, (answers.get(target.name) ?? 0) + 1);
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await waitFor(() => (answers.get('before') ?? 0) >= 20, 'answers signed with the old key', 15_000);

    // Step 2: instances signing with the new key join (a rolling deploy), then the old ones leave.
    const after = await startRouter('after', [newKey, oldKey]);
    live.push(after);
    await waitFor(() => (answers.get('after') ?? 0) >= 20, 'answers signed with the new key, beside the old', 15_000);
    // A subscription through the new instance: its upgrade to courses is signed with the new key too.
    const course = (await graphql(after.url, CATALOG)).data.courses.edges[0].node.id as string;
    const socket = await connectWs(after.url);
    sockets.push(socket);
    const liveBefore = stack.services.courses!.server.liveSubscriptions().subscriptions;
    socket.subscribe('subscription C($id: ID!) { courseUpdated(id: $id) { id title } }', { id: course });
    await waitFor(() => stack.services.courses!.server.liveSubscriptions().subscriptions === liveBefore + 1, 'the subscription to be live on courses');
    live.splice(live.indexOf(before), 1);
    const settled = answers.get('after')!;
    await waitFor(() => answers.get('after')! >= settled + 20, 'answers after the old instances left', 15_000);

    running = false;
    await Promise.all(clients);
    expect(failures).toEqual([]);
  });

  it('refuses a router signing with a key that was never published', async () => {
    const early = await startRouter('unpublished', [generateServiceKeyPem(), oldKey]);
    const r = await graphql(early.url, CATALOG);
    expect(r.data?.courses ?? null).toBeNull();
    // Courses' refusal (HTTP 403), passed on by the router for the fields courses owns.
    expect(r.errors?.map((e) => e.message).join('\n')).toContain('403: Forbidden');
  });
});
