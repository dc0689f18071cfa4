/**
 * The router's own plan executor (router/src/planning/plan-executor/) answers exactly as the
 * gateway's executeQueryPlan: every operation below is planned once by the router's planner thread
 * and executed by both, over the same real subgraphs (executed in this process, their answers
 * passed through JSON as over HTTP), and the two results must serialize to the same JSON, byte for
 * byte: data, errors (messages, paths, extensions), null propagation, key order.
 *
 * The subgraphs are the gateways benchmark's four (bench/lib/gateways/benchmark-subgraphs.ts) plus
 * two of this test's own: `catalog`, with an interface, a union, entities of its own and fields
 * that fail or return null where the schema says they cannot, `ledger`, which answers some
 * entities with null (and no error), and `offline`, whose URL nothing
 * listens on (a subgraph that is down).
 */
import { ApolloGateway, LocalGraphQLDataSource, RemoteGraphQLDataSource, type GraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createLogger } from '@campus/kit/core';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, parse, validate, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCHMARK_SUBGRAPHS, benchmarkSubgraphSchema, benchmarkSubgraphSdl } from '../../bench/lib/gateways/benchmark-subgraphs.ts';
import { QUERIES } from '../../bench/lib/gateways/queries.ts';
import { composeSupergraph } from '../src/compose.ts';
import type { RouterContext } from '../src/context.ts';
import { executePlan, planFallbackReason, type PlanExecution } from '../src/planning/plan-executor/execute-plan.ts';
import { trackSupergraph, type SupergraphTracker } from '../src/planning/supergraph-state.ts';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external"])';

const CATALOG_SDL = `${LINK}
  interface Item { id: ID!  title: String }
  type Book implements Item @key(fields: "id") { id: ID!  title: String  pages: Int }
  type Film implements Item @key(fields: "id") { id: ID!  title: String  minutes: Int! }
  union Found = Book | Film
  type Query {
    items: [Item!]!
    found: [Found]
    broken: String
    brokenRequired: String!
    film(id: ID!): Film
  }
  type Product @key(fields: "upc") { upc: String!  related: [Item]  flaky: String  strict: Int! }
  type User @key(fields: "id") { id: ID!  favourite: Item }`;

const BOOKS = [
  { __typename: 'Book', id: 'b1', title: 'Dune', pages: 412 },
  { __typename: 'Book', id: 'b2', title: 'Emma', pages: null },
];
const FILMS = [
  { __typename: 'Film', id: 'f1', title: 'Alien', minutes: 117 },
  // minutes is Int!: this film fails in the subgraph itself wherever it is asked for.
  { __typename: 'Film', id: 'f2', title: 'Brazil', minutes: null },
];

const catalogSchema = buildSubgraphSchema({
  typeDefs: parse(CATALOG_SDL),
  resolvers: {
    Item: { __resolveType: (item: { __typename: string }) => item.__typename },
    Found: { __resolveType: (item: { __typename: string }) => item.__typename },
    Query: {
      items: () => [BOOKS[0], FILMS[0], BOOKS[1]],
      found: () => [FILMS[0], BOOKS[0], FILMS[1], null],
      broken: () => {
        throw new GraphQLError('catalog is having a bad day', { extensions: { code: 'CATALOG_DOWN', retry: false } });
      },
      brokenRequired: () => {
        throw new Error('no luck');
      },
      film: (_: unknown, { id }: { id: string }) => FILMS.find((f) => f.id === id) ?? null,
    },
    Book: { __resolveReference: ({ id }: { id: string }) => BOOKS.find((b) => b.id === id) ?? null },
    Film: { __resolveReference: ({ id }: { id: string }) => FILMS.find((f) => f.id === id) ?? null },
    Product: {
      __resolveReference: ({ upc }: { upc: string }) => ({ upc }),
      related: ({ upc }: { upc: string }) => (upc === '1' ? [BOOKS[0], FILMS[1]] : upc === '2' ? [] : [FILMS[0]]),
      flaky: ({ upc }: { upc: string }) => {
        if (upc === '2') throw new GraphQLError(`no stock data for ${upc}`);
        return `ok ${upc}`;
      },
      strict: ({ upc }: { upc: string }) => (upc === '3' ? null : Number(upc)),
    },
    User: { __resolveReference: ({ id }: { id: string }) => ({ id }), favourite: ({ id }: { id: string }) => (id === '1' ? BOOKS[0] : id === '2' ? FILMS[1] : null) },
  },
});

// Knows some films only, and answers the others with a null entity and no error: the gateway's
// shaping then finds a non-null field missing and reports it itself (extensions.valueCompletion).
const LEDGER_SDL = `${LINK}
  type Film @key(fields: "id") { id: ID!  rating: Int! }`;
const ledgerSchema = buildSubgraphSchema({
  typeDefs: parse(LEDGER_SDL),
  resolvers: { Film: { __resolveReference: ({ id }: { id: string }) => (id === 'f1' ? { id, rating: 5 } : null) } },
});

const OFFLINE_SDL = `${LINK}
  type Query { offline: String }
  type User @key(fields: "id") { id: ID!  status: String }`;

/** A subgraph executed in this process, its answer passed through JSON as an HTTP answer would be. */
class InProcessSubgraph implements GraphQLDataSource<RouterContext> {
  private readonly local: LocalGraphQLDataSource<RouterContext>;
  constructor(schema: ConstructorParameters<typeof LocalGraphQLDataSource>[0]) {
    this.local = new LocalGraphQLDataSource(schema);
  }
  async process(options: Parameters<GraphQLDataSource<RouterContext>['process']>[0]) {
    return JSON.parse(JSON.stringify(await this.local.process(options)));
  }
}

const OFFLINE_URL = 'http://127.0.0.1:9/graphql';
const subgraphs = [
  ...BENCHMARK_SUBGRAPHS.map((name) => ({ name, url: `http://${name}.invalid/graphql`, sdl: benchmarkSubgraphSdl(name), schema: benchmarkSubgraphSchema(name) })),
  { name: 'catalog', url: 'http://catalog.invalid/graphql', sdl: CATALOG_SDL, schema: catalogSchema },
  { name: 'ledger', url: 'http://ledger.invalid/graphql', sdl: LEDGER_SDL, schema: ledgerSchema },
  { name: 'offline', url: OFFLINE_URL, sdl: OFFLINE_SDL, schema: undefined },
];

/** [name, query, variables, whether the gateway's executor runs it (the plan has what ours leaves to it)] */
const CASES: [string, string, Record<string, unknown>?, boolean?][] = [
  ...QUERIES.filter((q) => q.workload === 'a').map((q): [string, string] => [`benchmark: ${q.name}`, q.body.query]),
  ['aliases, twice the same field', '{ a: topProducts(first: 2) { n: name upc p: price shippingEstimate } b: topProducts { name n: name } }'],
  ['__typename everywhere, aliased too', '{ __typename t: __typename users { __typename k: __typename id reviews { __typename product { __typename upc } } } }'],
  ['named and inline fragments, overlapping', 'fragment P on Product { upc name reviews { id } } { topProducts { ...P ... on Product { name price reviews { body id } } ...P } }'],
  ['@include and @skip with variables, both true', 'query ($a: Boolean!, $b: Boolean = false) { topProducts { name @include(if: $a) price @skip(if: $b) inStock @include(if: $a) reviews @skip(if: $a) { body } } }', { a: true, b: true }],
  ['@include and @skip with variables, both false', 'query ($a: Boolean!, $b: Boolean = false) { topProducts { name @include(if: $a) price @skip(if: $b) inStock @include(if: $a) reviews @skip(if: $a) { body } } }', { a: false, b: false }],
  ['@skip from a default value', 'query ($a: Boolean!, $b: Boolean = true) { topProducts { name price @skip(if: $b) shippingEstimate @include(if: $a) } }', { a: true }],
  ['@include on a fragment, with a literal', 'query ($a: Boolean!) { users { ... on User @include(if: $a) { name reviews { id } } id @skip(if: false) username @include(if: false) } }', { a: true }],
  ['a variable used by a fetch', 'query ($id: ID!) { user(id: $id) { name reviews { body product { name inStock } } } }', { id: '2' }],
  ['a variable naming nothing (null root field)', 'query ($id: ID!) { user(id: $id) { name reviews { body } } }', { id: 'nobody' }],
  ['a default argument from a variable', 'query ($n: Int = 3) { topProducts(first: $n) { upc shippingEstimate } }'],
  ['an interface list, with fragments per type', '{ items { __typename id title ... on Book { pages } ... on Film { minutes } } }'],
  ['a union with a failing member and a null', '{ found { __typename ... on Film { id minutes title } ... on Book { id title } } }'],
  ['interfaces reached through entity fetches', '{ topProducts { upc related { id title ... on Film { minutes } ... on Book { pages } } } users { id favourite { __typename title } } }'],
  ['a nullable field whose subgraph fails (code kept)', '{ broken topProducts(first: 1) { name } }'],
  ['a non-null field whose subgraph fails (null propagation to data)', '{ brokenRequired topProducts(first: 1) { name } }'],
  ['entity fetch errors at entity paths', '{ topProducts { upc name flaky } }'],
  ['a non-null entity field null (null propagation to the entity)', '{ topProducts(first: 4) { upc strict name } }'],
  ['a non-null field in a list of a nested entity', '{ users { id reviews { product { upc strict flaky } } } }'],
  ['a root field of a subgraph that is down', '{ offline topProducts(first: 1) { name } }'],
  ['an entity field from a subgraph that is down', '{ users { id name status } }'],
  ['a film by id, its non-null field failing', 'query ($id: ID!) { film(id: $id) { title minutes } }', { id: 'f2' }],
  ['a non-null field missing from a null entity (valueCompletion)', '{ found { __typename ... on Film { id title rating } } }'],
  ['a non-null field missing, under non-null list elements', '{ items { id ... on Film { rating } } }'],
  ['introspection beside data (the gateway executor)', '{ __schema { queryType { name } } topProducts(first: 1) { name } }', {}, true],
  ['__type introspection (the gateway executor)', '{ __type(name: "Product") { name fields { name } } }', {}, true],
];

describe('the router executes query plans as the gateway does', () => {
  let gateway: ApolloGateway;
  let tracker: SupergraphTracker;
  const logger = createLogger('router', 'silent');

  beforeAll(async () => {
    const supergraphSdl = composeSupergraph(subgraphs.map(({ name, url, sdl }) => ({ name, url, sdl })));
    const buildService = ({ name, url }: { name: string; url?: string }): GraphQLDataSource<RouterContext> => {
      const schema = subgraphs.find((s) => s.name === name)?.schema;
      return schema ? new InProcessSubgraph(schema) : new RemoteGraphQLDataSource({ url: url! });
    };
    gateway = new ApolloGateway({ supergraphSdl, buildService });
    tracker = trackSupergraph(gateway, { buildService, planner: { timeoutMs: 30_000, workers: 1, logger }, defaultListSize: 10, planExecutor: 'own' });
    await gateway.load();
    await tracker.plannerReady();
  });
  afterAll(async () => {
    await tracker?.stop();
    await gateway?.stop();
  });

  /** Plans `query` on the planner thread and returns how each executor would run it. */
  async function prepare(query: string, variables: Record<string, unknown>): Promise<() => PlanExecution> {
    const state = tracker.current()!;
    const document = parse(query);
    expect(validate(state.apiSchema, document)).toEqual([]);
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
    const { plan, operationContext } = await state.plan({ query, document, operationName: undefined });
    // A fresh request context per execution: the executors write into its metrics.
    return () => ({
      plan,
      operationContext,
      serviceMap: state.dataSources,
      requestContext: {
        request: { query, variables },
        document,
        operation,
        source: query,
        operationName: operation.name?.value ?? null,
        context: {} as RouterContext,
        logger,
        metrics: {},
        cache: undefined,
      } as unknown as GatewayGraphQLRequestContext<RouterContext>,
      supergraphSchema: state.supergraphSchema,
      apiSchema: state.api,
    });
  }

  /** What a client could see of a result: its JSON, keys in order (GraphQLError serializes as message, locations, path, extensions). */
  const serialized = (result: unknown) => JSON.stringify(result);

  for (const [name, query, variables = {}, onGateway = false] of CASES) {
    it(name, async () => {
      const execution = await prepare(query, variables);
      expect(planFallbackReason(execution())).toEqual(onGateway ? expect.any(String) : undefined);
      const gatewayResult = await executePlan('gateway', execution());
      // Twice: the first run compiles the plan's shaping, the second reuses it.
      for (let round = 0; round < 2; round++) {
        const ownResult = await executePlan('own', execution());
        expect(serialized(ownResult)).toBe(serialized(gatewayResult));
        expect(Object.keys(ownResult)).toEqual(Object.keys(gatewayResult));
      }
    });
  }

  it('the cases cover data and errors alike', async () => {
    // A guard against a suite that compares nothing but empty answers.
    const results = await Promise.all(CASES.map(async ([, query, variables = {}]) => executePlan('own', (await prepare(query, variables))())));
    expect(results.filter((r) => r.errors?.length).length).toBeGreaterThanOrEqual(8);
    expect(results.filter((r) => r.data && Object.keys(r.data).length).length).toBeGreaterThanOrEqual(20);
    const codes = new Set(results.flatMap((r) => (r.errors ?? []).map((e) => e.extensions?.code)));
    expect([...codes]).toEqual(expect.arrayContaining(['CATALOG_DOWN', 'DOWNSTREAM_SERVICE_ERROR']));
    expect(results.filter((r) => r.extensions?.valueCompletion).length).toBeGreaterThanOrEqual(1);
  });

  /** The outcome of an execution that may also reject, as something to compare. */
  const settled = (result: Promise<unknown>) => result.then((value) => ({ answered: serialized(value) }), (error: Error) => ({ threw: `${error.constructor.name}: ${error.message}` }));

  // Variables a client cannot send through the router (they are coerced first, executor.ts), which
  // the gateway's code asserts on: ours must hand them to it (or fail) the same way.
  for (const [name, query, variables] of [
    ['a non-boolean @include variable on a root field', 'query ($a: Boolean!) { topProducts(first: 2) @include(if: $a) { name } }', { a: 'yes' }],
    ['a non-boolean @skip variable on a nested field', 'query ($a: Boolean!) { topProducts(first: 2) { upc name @skip(if: $a) } }', { a: 1 }],
    ['a missing @skip variable on a fragment', 'query ($a: Boolean!) { users { id ... on User @skip(if: $a) { name } } }', {}],
    // No subgraph sees this one: only the shaping does, which hands the answer to the gateway's.
    ['a non-boolean @skip variable on the root __typename', 'query ($a: Boolean!) { __typename @skip(if: $a) topProducts(first: 1) { name } }', { a: 'yes' }],
  ] as const) {
    it(`${name}: the gateway's outcome`, async () => {
      const execution = await prepare(query, {});
      const withVariables = () => {
        const e = execution();
        return { ...e, requestContext: { ...e.requestContext, request: { query, variables } } as unknown as PlanExecution['requestContext'] };
      };
      expect(await settled(executePlan('own', withVariables()))).toEqual(await settled(executePlan('gateway', withVariables())));
    });
  }

  it('a request without metrics fails on a subgraph error exactly as the gateway does', async () => {
    const execution = await prepare('{ broken }', {});
    const withoutMetrics = () => ({ ...execution(), requestContext: { ...execution().requestContext, metrics: undefined } as unknown as PlanExecution['requestContext'] });
    expect(serialized(await executePlan('own', withoutMetrics()))).toBe(serialized(await executePlan('gateway', withoutMetrics())));
  });
});
