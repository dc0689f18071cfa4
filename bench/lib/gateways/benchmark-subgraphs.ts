/**
 * Workload (a) of `npm run bench:gateways`: the four subgraphs of the public GraphQL gateways
 * benchmark (accounts, inventory, products, reviews: the shapes of Apollo's federation demo), in
 * our own words, with the data that benchmark publishes. Everything is in memory and answered at
 * once, so what is measured is the gateway in front of them.
 *
 * Faithful to the published subgraphs where it changes what a gateway does:
 *   - `Review.author` provides `username` (one fetch fewer for the author's username) and is
 *     always user 1; every user's `reviews` are reviews 1 and 2, whoever the user is;
 *   - `shippingEstimate` requires `price weight` from products (the gateway fetches them first);
 *   - `topProducts(first)` defaults to 5.
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { parse } from 'graphql';

export const BENCHMARK_SUBGRAPHS = ['accounts', 'inventory', 'products', 'reviews'] as const;
export type BenchmarkSubgraph = (typeof BENCHMARK_SUBGRAPHS)[number];

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires", "@provides"])';

interface User {
  id: string;
  name: string;
  username: string;
  birthday: number;
}
interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
}
interface Review {
  id: string;
  body: string;
  upc: string;
}

const USERS: User[] = [
  ['1', 'Uri Goldshtein', 'urigo'],
  ['2', 'Dotan Simha', 'dotansimha'],
  ['3', 'Kamil Kisiela', 'kamilkisiela'],
  ['4', 'Arda Tanrikulu', 'ardatan'],
  ['5', 'Gil Gardosh', 'gilgardosh'],
  ['6', 'Laurin Quast', 'laurin'],
].map(([id, name, username]) => ({ id: id!, name: name!, username: username!, birthday: 1234567890 }));

const PRODUCTS: Product[] = (
  [
    ['1', 'Table', 899, 100],
    ['2', 'Couch', 1299, 1000],
    ['3', 'Glass', 15, 20],
    ['4', 'Chair', 499, 100],
    ['5', 'TV', 1299, 1000],
    ['6', 'Lamp', 6999, 300],
    ['7', 'Grill', 3999, 2000],
    ['8', 'Fridge', 100000, 6000],
    ['9', 'Sofa', 9999, 800],
  ] as const
).map(([upc, name, price, weight]) => ({ upc, name, price, weight }));

const IN_STOCK = new Map(['1', '5', '6', '7', '9'].map((upc) => [upc, true]));

const LOREM =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.';
const SED_UT =
  'Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugi';
const SED_QUIA =
  'sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Neque porro quisquam est, qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit, sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat voluptatem.';
const UT_ENIM = 'Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, nisi ut aliquid ex ea commodi consequatur? Quis autem';
const AT_VERO =
  'At vero eos et accusamus et iusto odio dignissimos ducimus qui blanditiis praesentium voluptatum deleniti atque corrupti quos dolores et quas molestias excepturi sint occaecati cupiditate non provident, similique sunt in culpa qui officia deserunt mollitia animi, id est laborum et dolorum fuga. Et harum quidem rerum facilis est et expedita distinctio. Nam libero tempore, cum soluta nobis est eligendi optio cumque nihil impedit quo minus id quod maxime placeat facere possimus, omnis voluptas assumenda est, omnis dolor repellendus. Temporibus autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe eveniet ut et voluptates repudiandae sint et molestiae non recusandae. Itaque earum rerum hic tenetur a sapiente delectus, ut aut reiciendis voluptatibus maiores alias consequatur aut perferendis doloribus asperiores repellat.';

const REVIEWS: Review[] = (
  [
    [LOREM, '1'],
    [SED_UT, '1'],
    [SED_QUIA, '1'],
    [UT_ENIM, '1'],
    [LOREM, '2'],
    [SED_UT, '2'],
    [SED_QUIA, '2'],
    [UT_ENIM, '2'],
    [UT_ENIM, '3'],
    [UT_ENIM, '4'],
    [AT_VERO, '4'],
  ] as const
).map(([body, upc], i) => ({ id: String(i + 1), body, upc }));

/** Every user's reviews, as published: the first two, whoever the user is. */
const reviewsOfAnyUser = () => REVIEWS.slice(0, 2);

const SDL: Record<BenchmarkSubgraph, string> = {
  accounts: `${LINK}
    type Query { me: User  user(id: ID!): User  users: [User] }
    type User @key(fields: "id") { id: ID!  name: String  username: String @shareable  birthday: Int }`,
  products: `${LINK}
    type Query { topProducts(first: Int = 5): [Product] }
    type Product @key(fields: "upc") { upc: String!  name: String  price: Int  weight: Int }`,
  inventory: `${LINK}
    type Product @key(fields: "upc") {
      upc: String!
      weight: Int @external
      price: Int @external
      inStock: Boolean
      shippingEstimate: Int @requires(fields: "price weight")
    }`,
  reviews: `${LINK}
    type Review @key(fields: "id") { id: ID!  body: String  author: User @provides(fields: "username")  product: Product }
    type User @key(fields: "id") { id: ID!  username: String @external  reviews: [Review] }
    type Product @key(fields: "upc") { upc: String!  reviews: [Review] }`,
};

type Resolvers = Parameters<typeof buildSubgraphSchema>[0] extends infer M ? (M extends { resolvers?: infer R } ? R : never) : never;

const RESOLVERS: Record<BenchmarkSubgraph, Resolvers> = {
  accounts: {
    Query: {
      me: () => USERS[0],
      user: (_: unknown, { id }: { id: string }) => USERS.find((u) => u.id === id) ?? null,
      users: () => USERS,
    },
    User: { __resolveReference: ({ id }: { id: string }) => USERS.find((u) => u.id === id) ?? null },
  },
  products: {
    Query: { topProducts: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first) },
    Product: { __resolveReference: ({ upc }: { upc: string }) => PRODUCTS.find((p) => p.upc === upc) ?? null },
  },
  inventory: {
    Product: {
      __resolveReference: (ref: { upc: string; price?: number; weight?: number }) => ({ ...ref, inStock: IN_STOCK.get(ref.upc) ?? false }),
      shippingEstimate: ({ price, weight }: { price?: number | null; weight?: number | null }) => {
        if (price == null) return null;
        if (price > 1000) return 0;
        return weight == null ? null : Math.floor(weight / 2);
      },
    },
  },
  reviews: {
    Review: {
      __resolveReference: ({ id }: { id: string }) => REVIEWS.find((r) => r.id === id) ?? null,
      author: () => ({ id: '1', username: 'urigo' }),
      product: (review: Review) => ({ upc: review.upc }),
    },
    User: {
      __resolveReference: ({ id }: { id: string }) => ({ id }),
      reviews: reviewsOfAnyUser,
    },
    Product: {
      __resolveReference: ({ upc }: { upc: string }) => ({ upc }),
      reviews: ({ upc }: { upc: string }) => REVIEWS.filter((r) => r.upc === upc),
    },
  },
};

export function benchmarkSubgraphSdl(name: BenchmarkSubgraph): string {
  return SDL[name];
}

export function benchmarkSubgraphSchema(name: BenchmarkSubgraph): GraphQLSchema {
  return buildSubgraphSchema({ typeDefs: parse(SDL[name]), resolvers: RESOLVERS[name] });
}
