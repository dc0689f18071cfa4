/**
 * The two subscriptions the benchmark measures, on a running stack:
 *   session  mySessionEvents: one subgraph (users), no rest plan
 *   course   courseUpdated { id title instructor { name } }: courses, then users per event
 * Each is built once and run several times (both paths, alternated), so events are numbered and
 * timed across runs, not per run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger, DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import type { Stack } from '@campus/stack';
import { graphql, logIn } from '@campus/test-kit';
import { liveUpdates } from '@campus/users/live-updates';
import { now } from './clock.ts';
import type { Scenario } from './scenario.ts';

/**
 * Times each publish on one topic as it leaves the subgraph, so latency starts when the event
 * exists (after its transaction), not when the benchmark asked for the change.
 */
function publishTimes(stack: Stack, topic: string): number[] {
  const times: number[] = [];
  const pubsub = stack.shared.pubsub;
  const publish = pubsub.publish.bind(pubsub);
  pubsub.publish = (t, payload) => {
    if (t === topic) times.push(now());
    return publish(t, payload);
  };
  return times;
}

export async function sessionScenario(stack: Stack, routerUrl: string): Promise<Scenario> {
  const signUp = await graphql(routerUrl, 'mutation S($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } } }', {
    variables: { i: { email: `bench-${randomBytes(4).toString('hex')}@campus.test`, password: 'bench-password', name: 'Bench' } },
  });
  const { accessToken, user } = signUp.data.signUp as { accessToken: string; user: { id: string } };
  const publisher = liveUpdates(stack.shared.pubsub, createLogger('bench', 'silent'));
  const query = 'subscription { mySessionEvents { id reason reauthenticate occurredAt } }';
  return {
    name: 'mySessionEvents (users only)',
    query,
    // One subgraph, no rest plan: the router's primary fetch is the client's query.
    subgraphQuery: query,
    subgraphUrl: `${stack.urls.users}/graphql`,
    subgraph: 'users',
    token: accessToken,
    live: () => stack.services.users!.server.liveSubscriptions().subscriptions,
    async raise() {
      const at = now();
      await publisher.sessionEvent({ userId: user.id, reason: 'LOGGED_OUT', endedSessionId: randomUUID() });
      return at;
    },
  };
}

export async function courseScenario(stack: Stack, routerUrl: string): Promise<Scenario> {
  const instructor = DEMO_ACCOUNTS[1];
  const { accessToken } = await logIn(routerUrl, instructor.email, DEMO_PASSWORD);
  const mine = await graphql(routerUrl, 'query M($id: ID!) { courses(first: 1, filter: { instructorId: $id }) { edges { node { id } } } }', {
    variables: { id: instructor.id },
  });
  const courseId = mine.data.courses.edges[0].node.id as string;
  const published = publishTimes(stack, `courses:course-updated:${courseId}`);
  return {
    name: 'courseUpdated { instructor { name } } (courses + users)',
    query: 'subscription C($id: ID!) { courseUpdated(id: $id) { id title instructor { name } } }',
    // The primary fetch of the router's plan; `name` comes from users in the rest of the plan.
    subgraphQuery: 'subscription C($id: ID!) { courseUpdated(id: $id) { id title instructor { __typename id } } }',
    subgraphUrl: `${stack.urls.courses}/graphql`,
    subgraph: 'courses',
    variables: { id: courseId },
    live: () => stack.services.courses!.server.liveSubscriptions().subscriptions,
    async raise() {
      const n = published.length;
      const r = await graphql(routerUrl, 'mutation U($i: UpdateCourseInput!) { updateCourse(input: $i) { course { id } } }', {
        token: accessToken,
        variables: { i: { courseId, title: `Benchmark title ${n}` } },
      });
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      // Published before updateCourse answered (after its transaction).
      return published[n]!;
    },
  };
}
