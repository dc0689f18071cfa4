/**
 * Identical subscriptions share one upstream subscription (router/src/subscriptions/
 * shared-subscriptions.ts), end to end through the router over real WebSockets: counted on the
 * subgraphs' side (their graphql-ws hooks) and in the router's stats. Anonymous clients share one
 * scope; signed-in clients one per token, so two viewers are never merged.
 */
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { connectWs, graphql, logIn, waitFor, type WsConnection } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '@campus/stack/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const COURSE_UPDATED = 'subscription Course($id: ID!) { courseUpdated(id: $id) { id title instructor { name } } }';
const SESSION_EVENTS = 'subscription { mySessionEvents { reason reauthenticate } }';
const UPDATE_COURSE = 'mutation U($input: UpdateCourseInput!) { updateCourse(input: $input) { course { title } } }';
const SET_ROLE = 'mutation SetRole($input: SetUserRoleInput!) { setUserRole(input: $input) { user { id role } } }';
const instructor = DEMO_ACCOUNTS[1];

describe('shared upstream subscriptions', () => {
  let stack: TestStack;
  let url: string;
  let instructorToken: string;
  let courseId: string;
  const open: WsConnection[] = [];
  let counter = 0;

  const courses = () => stack.services.courses!.server.liveSubscriptions();
  const users = () => stack.services.users!.server.liveSubscriptions();
  const router = () => stack.router.subscriptionStats();
  const connect = async (token?: string) => {
    const c = await connectWs(url, { token });
    open.push(c);
    return c;
  };
  let titles = 0;
  const rename = async () => {
    const title = `Shared ${process.pid}-${++titles}`;
    const r = await graphql(url, UPDATE_COURSE, { token: instructorToken, variables: { input: { courseId, title } } });
    expect(r.errors).toBeUndefined();
    return title;
  };
  const titleOf = (r: { data?: { courseUpdated?: { title?: string } } }) => r.data?.courseUpdated?.title;

  beforeAll(async () => {
    stack = await sharedTestStack();
    url = stack.routerUrl;
    // The worker's shared stack: what earlier files opened must be gone before these counts mean anything.
    await waitFor(
      () => courses().subscriptions === 0 && users().subscriptions === 0 && router().subscriptions === 0 && router().upstreamSubscriptions === 0,
      'the subscriptions of earlier files on the shared stack to end',
    );
    instructorToken = (await logIn(url, instructor.email, DEMO_PASSWORD)).accessToken;
    const mine = await graphql(url, 'query Mine($id: ID!) { courses(first: 1, filter: { instructorId: $id }) { edges { node { id } } } }', {
      variables: { id: instructor.id },
    });
    courseId = mine.data.courses.edges[0].node.id as string;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await waitFor(() => router().upstreamSubscriptions === 0 && router().upstreamSockets === 0, 'upstream subscriptions and sockets to close');
  });

  it('serves N anonymous watchers of one course from one upstream subscription; leaving ones do not end the others; the last one out closes it', async () => {
    const N = 25;
    const connections = await Promise.all(Array.from({ length: N }, () => connect()));
    const subs = connections.map((c) => c.subscribe(COURSE_UPDATED, { id: courseId }, 'Course'));
    await waitFor(() => router().subscriptions === N && courses().subscriptions === 1, `${N} client subscriptions on 1 upstream`);
    expect(router()).toMatchObject({ subscriptions: N, upstreamSubscriptions: 1, upstreamSockets: 1 });
    expect(courses().sockets).toBe(1);

    const first = await rename();
    const second = await rename();
    await Promise.all(subs.map((s) => waitFor(() => s.results.some((r) => titleOf(r) === second), 'both events')));
    for (const s of subs) {
      expect(s.results.map(titleOf)).toEqual([first, second]);
      expect(s.results[0]).toEqual({ data: { courseUpdated: { id: courseId, title: first, instructor: { name: instructor.name } } } });
    }

    // Half leave, one by unsubscribing and the rest by disconnecting: the others keep their stream.
    subs[0]!.unsubscribe();
    await Promise.all(connections.slice(1, N / 2).map((c) => c.close()));
    await waitFor(() => router().subscriptions === N - Math.floor(N / 2), 'the leavers to be gone');
    expect(courses().subscriptions).toBe(1);
    const third = await rename();
    const stayers = subs.slice(Math.floor(N / 2));
    await Promise.all(stayers.map((s) => waitFor(() => s.results.some((r) => titleOf(r) === third), 'the third event')));
    expect(subs[0]!.results.map(titleOf)).toEqual([first, second]);

    // The last one out completes the upstream subscription and closes its socket.
    for (const s of stayers) s.unsubscribe();
    await waitFor(() => courses().subscriptions === 0 && courses().sockets === 0, 'the upstream subscription and socket to close');
    expect(router()).toMatchObject({ subscriptions: 0, upstreamSubscriptions: 0, upstreamSockets: 0 });
  });

  it('opens one upstream subscription per viewer of a private topic, and shares one between connections of the same token', async () => {
    const signUp = async () => {
      const r = await graphql(url, 'mutation S($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } } }', {
        variables: { i: { email: `shared-${process.pid}-${++counter}@campus.test`, password: 'long-enough-pw', name: `Shared ${counter}` } },
      });
      return r.data.signUp as { accessToken: string; user: { id: string } };
    };
    const [alice, bob] = [await signUp(), await signUp()];
    const aliceTabs = [await connect(alice.accessToken), await connect(alice.accessToken)].map((c) => c.subscribe(SESSION_EVENTS));
    const bobSub = (await connect(bob.accessToken)).subscribe(SESSION_EVENTS);
    await waitFor(() => router().subscriptions === 3 && users().subscriptions === 2, '3 client subscriptions on 2 upstream');
    // One socket per viewer: each carries only its own token.
    expect(router()).toMatchObject({ upstreamSubscriptions: 2, upstreamSockets: 2 });
    expect(users().sockets).toBe(2);

    const adminToken = (await logIn(url, DEMO_ACCOUNTS[0].email, DEMO_PASSWORD)).accessToken;
    await graphql(url, SET_ROLE, { token: adminToken, variables: { input: { userId: alice.user.id, role: 'INSTRUCTOR' } } });
    for (const tab of aliceTabs) expect((await tab.nth(0)).data.mySessionEvents).toEqual({ reason: 'ROLE_CHANGED', reauthenticate: true });
    // Bob's stream was live and got nothing of Alice's: his own event is his first.
    await graphql(url, SET_ROLE, { token: adminToken, variables: { input: { userId: bob.user.id, role: 'INSTRUCTOR' } } });
    expect((await bobSub.nth(0)).data.mySessionEvents.reason).toBe('ROLE_CHANGED');
    expect(bobSub.results).toHaveLength(1);
    for (const tab of aliceTabs) expect(tab.results).toHaveLength(1);
  });

  it('shares a refusal among anonymous subscribers of a private topic and keeps nothing open', async () => {
    const subs = await Promise.all([connect(), connect()]).then((cs) => cs.map((c) => c.subscribe(SESSION_EVENTS)));
    for (const s of subs) {
      const r = await s.nth(0);
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      await s.ended;
    }
    await waitFor(() => router().subscriptions === 0 && router().upstreamSubscriptions === 0, 'nothing left open');
    expect(users().subscriptions).toBe(0);
  });
});
