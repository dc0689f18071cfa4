/**
 * Benchmark: federated subscriptions through the router (`npm run bench:subscriptions`).
 *
 *   latency  from the moment a subgraph publishes an event to the moment each subscribed client
 *            has it: pub/sub → subgraph graphql-ws → router (primary + rest of the plan) → client.
 *            Publisher and clients share this process's clock.
 *   memory   the router's heap and RSS after a full GC with every subscription open, minus the
 *            same before they were opened, divided by the number of subscriptions.
 *
 * The router runs in its own process (its real entry point); the subgraphs and the clients run
 * here. Each subscriber has its own WebSocket, as each browser tab would. Two scenarios:
 *   session  mySessionEvents: one subgraph (users), no rest plan
 *   course   courseUpdated { id title instructor { name } }: courses, then users per event
 *
 *   BENCH_SUBSCRIBERS  concurrent subscribers (default 1000)
 *   BENCH_EVENTS       events per scenario, raised one after the other (default 30)
 *   REDIS_URL          Redis pub/sub between publishers and subgraph subscribers
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createLogger, DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit';
import { startStack } from '@campus/stack';
import { graphql, logIn } from '@campus/stack/testing';
import { JWKS_PATH } from '@campus/users/server';
import { sessionEvents } from '@campus/users/session-events';
import { startRouterProcess } from './lib/router-process.ts';
import { runScenario, type Scenario, type ScenarioResult } from './lib/scenario.ts';
import { table } from './lib/stats.ts';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 30);
const MiB = 1024 * 1024;

const secret = randomBytes(32).toString('hex');
const stack = await startStack({
  env: { NODE_ENV: 'test', ROUTER_SIGNING_SECRET: secret, ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) },
  routerPort: 0,
  host: '127.0.0.1',
  logLevel: 'silent',
});
await stack.seedIfEmpty(0.05);
const router = await startRouterProcess({
  ROUTER_SIGNING_SECRET: secret,
  SUPERGRAPH_PATH: stack.supergraphPath,
  JWKS_URL: `${stack.urls.users}${JWKS_PATH}`,
  NODE_ENV: 'production',
});

/**
 * Timestamps each publish on one topic as it leaves the subgraph, so latency starts when the
 * event exists (after its transaction), not when the benchmark asked for the change.
 */
function publishTimes(topic: string): number[] {
  const times: number[] = [];
  const pubsub = stack.shared.pubsub;
  const publish = pubsub.publish.bind(pubsub);
  pubsub.publish = (t, payload) => {
    if (t === topic) times.push(performance.now());
    return publish(t, payload);
  };
  return times;
}

async function sessionScenario(): Promise<Scenario> {
  const signUp = await graphql(router.url, 'mutation S($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } } }', {
    variables: { i: { email: `bench-${randomBytes(4).toString('hex')}@campus.test`, password: 'bench-password', name: 'Bench' } },
  });
  const { accessToken, user } = signUp.data.signUp as { accessToken: string; user: { id: string } };
  const publisher = sessionEvents(stack.shared.pubsub, createLogger('bench', 'silent'));
  return {
    name: 'mySessionEvents (users only)',
    query: 'subscription { mySessionEvents { id reason reauthenticate occurredAt } }',
    token: accessToken,
    live: () => stack.services.users!.server.liveSubscriptions().subscriptions,
    async raise() {
      const at = performance.now();
      await publisher.publish({ userId: user.id, reason: 'LOGGED_OUT', endedSessionId: randomUUID() });
      return at;
    },
  };
}

async function courseScenario(): Promise<Scenario> {
  const instructor = DEMO_ACCOUNTS[1];
  const { accessToken } = await logIn(router.url, instructor.email, DEMO_PASSWORD);
  const mine = await graphql(router.url, 'query M($id: ID!) { courses(first: 1, filter: { instructorId: $id }) { edges { node { id } } } }', {
    variables: { id: instructor.id },
  });
  const courseId = mine.data.courses.edges[0].node.id as string;
  const published = publishTimes(`courses:course-updated:${courseId}`);
  return {
    name: 'courseUpdated { instructor { name } } (courses + users)',
    query: 'subscription C($id: ID!) { courseUpdated(id: $id) { id title instructor { name } } }',
    variables: { id: courseId },
    live: () => stack.services.courses!.server.liveSubscriptions().subscriptions,
    async raise(n) {
      const r = await graphql(router.url, 'mutation U($i: UpdateCourseInput!) { updateCourse(input: $i) { course { id } } }', {
        token: accessToken,
        variables: { i: { courseId, title: `Benchmark title ${n}` } },
      });
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return published[n]!;
    },
  };
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const kib = (v: number) => `${(v / 1024).toFixed(1)} KiB`;
const rows = (r: ScenarioResult): [string, string][] => [
  ['deliveries (all received, no errors)', `${r.deliveries} (${r.complete ? 'yes' : 'NO'})`],
  ['event-to-client latency p50', ms(r.latency.p50)],
  ['event-to-client latency p90', ms(r.latency.p90)],
  ['event-to-client latency p99', ms(r.latency.p99)],
  ['event-to-client latency max', ms(r.latency.max)],
  ['event-to-last-client p50', ms(r.lastClientP50)],
  ['router heap per open subscription', kib(r.memory.heapPerSub)],
  ['router RSS per open subscription', kib(r.memory.rssPerSub)],
  ['router heap before / with subscribers', `${(r.memory.before.heapUsed / MiB).toFixed(1)} / ${(r.memory.during.heapUsed / MiB).toFixed(1)} MiB`],
  ['router RSS before / with subscribers', `${(r.memory.before.rss / MiB).toFixed(1)} / ${(r.memory.during.rss / MiB).toFixed(1)} MiB`],
];

try {
  const options = { routerUrl: router.url, subscribers: SUBSCRIBERS, events: EVENTS, memory: router.memory };
  // Warm-up (JIT, plan cache, JWKS, connection setup paths) so the first scenario is not penalised.
  await runScenario(await sessionScenario(), { ...options, subscribers: 20, events: 3 });
  let failed = false;
  for (const make of [sessionScenario, courseScenario]) {
    const scenario = await make();
    const result = await runScenario(scenario, options);
    failed ||= !result.complete;
    console.log(
      [
        '',
        `${scenario.name}: ${SUBSCRIBERS} subscribers (one WebSocket each), ${EVENTS} events, ` +
          `${process.env.REDIS_URL ? 'Redis' : 'in-process'} pub/sub, node ${process.version}`,
        table(rows(result)),
      ].join('\n'),
    );
  }
  if (failed) process.exitCode = 1;
} finally {
  await router.stop();
  await stack.close();
}
