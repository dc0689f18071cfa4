/**
 * The users subgraph as the router sees it: `_entities` with the shield applied, one SQL statement
 * for N references (DataLoader), and field rules still hiding emails from everyone but the user and
 * admins. Real database (PostgreSQL with TEST_DATABASE_URL, PGlite otherwise), real signed HTTP.
 */
import { DEMO_ACCOUNTS, DEMO_PASSWORD, seededStudentId } from '@campus/kit/core';
import { errorCode, logIn, signedSubgraphRequest } from '@campus/test-kit';
import { startTestStack, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ENTITIES = /* GraphQL */ `
  query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id name role } } }
`;
const ENTITIES_WITH_EMAIL = /* GraphQL */ `
  query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id email } } }
`;

describe('users _entities', () => {
  let stack: TestStack;
  let subgraphUrl: string;
  const student = DEMO_ACCOUNTS[2];

  beforeAll(async () => {
    stack = await startTestStack({ seedScale: 0.2 });
    subgraphUrl = `${stack.urls.users}/graphql`;
  });
  afterAll(() => stack?.close());
  const asRouter = () => ({ signer: stack.signers.router, audience: 'users' });

  // Users' background jobs (outbox relay, erasure and export-expiry poller, subgraphs/users/src/service.ts)
  // send statements of their own at any moment: only the request's are counted.
  const isRequestStatement = (sql: string) => !/"(OutboxEvent|AccountDeletion|DataExport)"/.test(sql) && !/^\s*(--|BEGIN|COMMIT|ROLLBACK)/i.test(sql);

  async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
    const statements: string[] = [];
    const stop = stack.services.users!.onStatement!((sql) => void (isRequestStatement(sql) && statements.push(sql)));
    try {
      return { result: await fn(), statements };
    } finally {
      stop();
    }
  }

  it.each([5, 50])('resolves %i user references with one SQL statement, in order, null for unknown ids', async (n) => {
    const ids = Array.from({ length: n - 1 }, (_, i) => seededStudentId(i));
    const reps = [...ids, '00000000-0000-4000-8000-000000000000'].map((id) => ({ __typename: 'User', id }));
    const { result, statements } = await countStatements(() => signedSubgraphRequest(subgraphUrl, asRouter(), ENTITIES, { variables: { reps } }));
    expect(result.errors).toBeUndefined();
    expect(result.data._entities.slice(0, -1).map((u: { id: string }) => u.id)).toEqual(ids);
    expect(result.data._entities.at(-1)).toBeNull();
    expect(statements).toHaveLength(1);
  });

  it('answers a reference that cannot be a UUID with null, without asking the database', async () => {
    const { result, statements } = await countStatements(() =>
      signedSubgraphRequest(subgraphUrl, asRouter(), ENTITIES, { variables: { reps: [{ __typename: 'User', id: "1' OR 1=1" }] } }),
    );
    expect(result.data._entities).toEqual([null]);
    expect(statements).toHaveLength(0);
  });

  it('still hides emails reached through _entities from other users and anonymous callers', async () => {
    const reps = [{ __typename: 'User', id: student.id }];
    const anonymous = await signedSubgraphRequest(subgraphUrl, asRouter(), ENTITIES_WITH_EMAIL, { variables: { reps } });
    expect(errorCode(anonymous)).toBe('FORBIDDEN');
    expect(anonymous.data._entities[0]).toEqual({ id: student.id, email: null });

    const other = await logIn(stack.routerUrl, DEMO_ACCOUNTS[1].email, DEMO_PASSWORD);
    const asOther = await signedSubgraphRequest(subgraphUrl, asRouter(), ENTITIES_WITH_EMAIL, { variables: { reps }, token: other.accessToken });
    expect(errorCode(asOther)).toBe('FORBIDDEN');
    expect(asOther.data._entities[0].email).toBeNull();

    const self = await logIn(stack.routerUrl, student.email, DEMO_PASSWORD);
    const asSelf = await signedSubgraphRequest(subgraphUrl, asRouter(), ENTITIES_WITH_EMAIL, { variables: { reps }, token: self.accessToken });
    expect(asSelf.data._entities[0].email).toBe(student.email);

    const admin = await logIn(stack.routerUrl, DEMO_ACCOUNTS[0].email, DEMO_PASSWORD);
    const asAdmin = await signedSubgraphRequest(subgraphUrl, asRouter(), ENTITIES_WITH_EMAIL, { variables: { reps }, token: admin.accessToken });
    expect(asAdmin.data._entities[0].email).toBe(student.email);
  });

  it('serves _service (the SDL) so federation tooling can introspect it, and nothing else unguarded', async () => {
    const sdl = await signedSubgraphRequest(subgraphUrl, asRouter(), '{ _service { sdl } }');
    expect(sdl.data._service.sdl).toContain('type User');
  });
});
