/**
 * Each service knows exactly who is calling it (docs/identity/service-identity.md): the router and
 * payments sign with keys of their own, subgraphs hold only public keys, every signed request is
 * good once, and payments gets from courses and users only what it needs. Real stack, real HTTP
 * and WebSocket, straight at the subgraphs as an attacker inside the network would.
 */
import { createRequestSigner, generateServiceKeyPem, SERVICE_JWKS_PATH } from '@campus/kit/identity';
import { ROUTER_ISSUER } from '@campus/kit/identity';
import type { JSONWebKeySet } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { errorCode, graphql, postRaw, type SignAs, signedSubgraphRequest, signedUpgradeHeaders, signSubgraphRequest, wsUrl } from '@campus/test-kit';
import { sharedTestStack, type TestStack } from '../src/testing.ts';
import { checkout, createCourse, logInAs, newStudent, type Account, type PaidCourse } from './payments-helpers.ts';

/** The status a WebSocket upgrade gets: 101 when the subgraph accepts it, its refusal otherwise. */
function upgradeStatus(httpUrl: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(httpUrl), 'graphql-transport-ws', { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (e) => reject(e));
  });
}

const COURSE_PRICE = /* GraphQL */ `
  query PaymentsCourseFacts($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Course { id title status isFree price { amount currency } instructor { id } } }
  }
`;

describe('service identity: who may call a subgraph, and for what', () => {
  let stack: TestStack;
  let instructor: Account;
  let course: PaidCourse;
  const url = (service: string) => `${stack.urls[service]}/graphql`;
  const asRouter = (audience: string): SignAs => ({ signer: stack.signers.router, audience });
  const asPayments = (audience: string): SignAs => ({ signer: stack.signers.payments, audience });

  beforeAll(async () => {
    stack = await sharedTestStack();
    instructor = await logInAs(stack.routerUrl, 'INSTRUCTOR');
    course = await createCourse(stack.routerUrl, instructor, { price: { amount: 2900, currency: 'EUR' } });
  });

  it("publishes the router's and payments' public keys, and nothing private", async () => {
    for (const [service, signer] of [['router', stack.signers.router], ['payments', stack.signers.payments]] as const) {
      const res = await fetch(`${stack.urls[service]}${SERVICE_JWKS_PATH}`);
      expect(res.status).toBe(200);
      const jwks = (await res.json()) as JSONWebKeySet;
      expect(jwks.keys.map((k) => k.kid)).toEqual([signer.kid]);
      expect(JSON.stringify(jwks)).not.toMatch(/"d"/);
    }
  });

  it("refuses a request signed with payments' key in the router's name (403)", async () => {
    const impostor = createRequestSigner(ROUTER_ISSUER, [stack.keys.payments]);
    for (const service of ['users', 'courses']) {
      const r = await signedSubgraphRequest(url(service), { signer: impostor, audience: service }, '{ _service { sdl } }');
      expect(r.status).toBe(403);
      expect(errorCode(r)).toBe('FORBIDDEN');
      expect(r.errors![0]!.message).toContain('not signed with a key of router');
      expect(r.data).toBeUndefined();
    }
  });

  it('refuses unsigned and forged requests, and a router signature meant for another subgraph', async () => {
    const unsigned = await graphql(url('users'), '{ _service { sdl } }');
    expect(unsigned.status).toBe(403);
    const forged = await signedSubgraphRequest(url('users'), { signer: createRequestSigner(ROUTER_ISSUER, [generateServiceKeyPem()]), audience: 'users' }, '{ _service { sdl } }');
    expect(forged.status).toBe(403);
    const elsewhere = await signedSubgraphRequest(url('users'), asRouter('courses'), '{ _service { sdl } }');
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.errors![0]!.message).toContain('signed for another service');
    // The same request, signed for the right subgraph, is answered.
    expect((await signedSubgraphRequest(url('users'), asRouter('users'), '{ _service { sdl } }')).data?._service.sdl).toContain('type User');
  });

  it('refuses a replay of a signed request, even one that was answered', async () => {
    const captured = signSubgraphRequest(url('courses'), asRouter('courses'), '{ courses(first: 1) { totalCount } }');
    const first = await postRaw(url('courses'), captured);
    expect(first.status).toBe(200);
    expect(first.data.courses.totalCount).toBeGreaterThan(0);
    const replay = await postRaw(url('courses'), captured);
    expect(replay.status).toBe(403);
    expect(replay.errors![0]!.message).toContain('replayed request');
  });

  it('refuses a WebSocket upgrade that is unsigned, forged, replayed, or from payments', async () => {
    const courses = url('courses');
    const signed = signedUpgradeHeaders(courses, asRouter('courses'))();
    expect(await upgradeStatus(courses, signed)).toBe(101);
    expect(await upgradeStatus(courses, signed)).toBe(403);
    expect(await upgradeStatus(courses, {})).toBe(403);
    const impostor = { signer: createRequestSigner(ROUTER_ISSUER, [stack.keys.payments]), audience: 'courses' };
    expect(await upgradeStatus(courses, signedUpgradeHeaders(courses, impostor)())).toBe(403);
    // Payments signing as itself may ask courses a question over HTTP, but never hold a socket open.
    expect(await upgradeStatus(courses, signedUpgradeHeaders(courses, asPayments('courses'))())).toBe(403);
  });

  it('still prices a checkout: payments asks courses as payments, and gets the price', async () => {
    const buyer = await newStudent(stack.routerUrl);
    const r = await checkout(stack.routerUrl, buyer, course.id);
    expect(r.errors).toBeUndefined();
    expect(r.data.checkout.payment).toMatchObject({ amount: { amount: 2900, currency: 'EUR' }, courseTitle: course.title });
  });

  it("lets payments ask courses only for a course's sale facts, and users only for a buyer's name and email", async () => {
    const buyer = await newStudent(stack.routerUrl);
    const facts = await signedSubgraphRequest(url('courses'), asPayments('courses'), COURSE_PRICE, {
      token: buyer.token,
      variables: { representations: [{ __typename: 'Course', id: course.id }] },
    });
    expect(facts.status).toBe(200);
    expect(facts.data._entities[0]).toMatchObject({ id: course.id, price: { amount: 2900, currency: 'EUR' } });

    const refused: [string, string, Record<string, unknown>, string][] = [
      ['courses', '{ courses(first: 5) { totalCount } }', {}, 'payments may not ask for Query.courses'],
      ['courses', 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Course { lessons { id content } } } }', { r: [{ __typename: 'Course', id: course.id }] }, 'payments may not ask for Course.lessons'],
      ['courses', 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: [{ __typename: 'Enrollment', id: course.id }] }, 'payments may not resolve Enrollment entities'],
      ['courses', 'mutation($id: ID!) { publishCourse(input: { courseId: $id }) { course { id } } }', { id: course.id }, 'payments may not send a mutation'],
      ['users', '{ users(first: 5) { totalCount } }', {}, 'payments may not ask for Query.users'],
      ['users', '{ _service { sdl } }', {}, 'payments may not ask for Query._service'],
    ];
    for (const [service, query, variables, problem] of refused) {
      const r = await signedSubgraphRequest(url(service), asPayments(service), query, { token: buyer.token, variables });
      expect(r.status, query).toBe(403);
      expect(errorCode(r)).toBe('FORBIDDEN');
      expect(r.errors![0]!.message).toContain(problem);
    }
    const name = await signedSubgraphRequest(url('users'), asPayments('users'), 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name } } }', {
      token: buyer.token,
      variables: { r: [{ __typename: 'User', id: buyer.id }] },
    });
    expect(name.data._entities[0]).toEqual({ id: buyer.id, name: 'Test Student' });
    // Payments is nobody to itself or anyone else it was not named a caller of.
    expect((await signedSubgraphRequest(url('payments'), asPayments('payments'), '{ __typename }')).status).toBe(403);
  });
});
