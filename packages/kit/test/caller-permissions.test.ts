/** What a service other than the router may ask (src/service-identity/caller-permissions.ts), on a real federated schema. */
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { callerOperationProblem, type CallerPermissions } from '../src/identity/caller-permissions.ts';

const schema = buildSubgraphSchema({
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type Query { courses: [Course!]! }
    type Mutation { deleteCourse(id: ID!): Boolean! }
    type Course @key(fields: "id") { id: ID! title: String! price: Money lessons: [Lesson!]! }
    type Lesson @key(fields: "id") { id: ID! content: String! }
    type Money { amount: Int! currency: String! }
  `),
  resolvers: {},
});

const may: CallerPermissions = { query: ['_entities'], entities: ['Course'], fields: { Course: ['id', 'title', 'price'], Money: ['amount', 'currency'] } };
const problem = (query: string, variables?: unknown) => callerOperationProblem(schema, 'payments', may, { query, variables });
const PRICE = 'query P($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Course { id price { amount currency } } } }';

describe('caller permissions', () => {
  it('allows the fields it lists, through _entities of the entity types it lists', () => {
    expect(problem(PRICE, { r: [{ __typename: 'Course', id: '1' }] })).toBeUndefined();
    expect(problem('{ _entities(representations: [{ __typename: "Course", id: "1" }]) { ... F } } fragment F on Course { title }')).toBeUndefined();
  });

  it('refuses any other field, wherever it hides (fragments included)', () => {
    expect(problem('query P($r: [_Any!]!) { _entities(representations: $r) { ... on Course { lessons { content } } } }', { r: [{ __typename: 'Course', id: '1' }] })).toBe(
      'payments may not ask for Course.lessons',
    );
    expect(problem('{ courses { id } }')).toBe('payments may not ask for Query.courses');
    expect(problem('{ _service { sdl } }')).toBe('payments may not ask for Query._service');
    expect(problem('{ __schema { types { name } } }')).toBe('payments may not ask for Query.__schema');
    expect(problem('query { _entities(representations: []) { ...F } } fragment F on Course { lessons { id } }')).toBe('payments may not ask for Course.lessons');
  });

  it('refuses entity types it does not list, inline or in variables', () => {
    expect(problem(PRICE, { r: [{ __typename: 'Course', id: '1' }, { __typename: 'Lesson', id: '2' }] })).toBe('payments may not resolve Lesson entities');
    expect(problem('{ _entities(representations: [{ __typename: "Lesson", id: "2" }]) { __typename } }')).toBe('payments may not resolve Lesson entities');
  });

  it('refuses mutations, subscriptions, unreadable and missing operations', () => {
    expect(problem('mutation { deleteCourse(id: "1") }')).toBe('payments may not send a mutation');
    expect(problem('{ _entities(')).toBe('payments sent an operation that does not parse');
    expect(callerOperationProblem(schema, 'payments', may, { extensions: { persistedQuery: { sha256Hash: 'x' } } })).toBe("payments must send the operation's text");
    expect(callerOperationProblem(schema, 'payments', may, [{ query: PRICE }])).toBe('payments may send one operation per request, as JSON');
  });
});
