/**
 * What `npm run bench:gateways` sends. Workload (a), on the public gateways benchmark's subgraphs
 * (benchmark-subgraphs.ts):
 *
 *   deep     the public benchmark's TestQuery, as its k6 scenario sends it: users and topProducts,
 *            each with reviews, their products or authors, those authors' reviews and their
 *            products (16 subgraph fetches per request with dedup off)
 *   small    topProducts(first: 5) { name price }: one fetch (products)
 *   onehop   topProducts(first: 5) { upc name price inStock }: two (products, then inventory)
 *
 * Workload (b), on Campus's own supergraph and seeded demo data (bench/lib/stack-process.ts):
 *
 *   catalog  a catalog page, courses(first: 20) with each instructor's name (courses, then users)
 *   learning me { enrollments } with the demo student's token (users, courses, then users)
 *   payments me { payments } with the demo student's token (users, payments, then courses)
 */
export type WorkloadName = 'a' | 'b';

export interface BenchQuery {
  name: string;
  workload: WorkloadName;
  /** One line for the report. */
  title: string;
  body: { query: string; operationName: string; variables?: Record<string, unknown> };
  /** Sent with the demo student's access token. */
  asStudent?: boolean;
}

const DEEP = /* GraphQL */ `
fragment User on User {
  id
  username
  name
}

fragment Review on Review {
  id
  body
}

fragment Product on Product {
  inStock
  name
  price
  shippingEstimate
  upc
  weight
}

query TestQuery {
  users {
    ...User
    reviews {
      ...Review
      product {
        ...Product
        reviews {
          ...Review
          author {
            ...User
            reviews {
              ...Review
              product {
                ...Product
              }
            }
          }
        }
      }
    }
  }
  topProducts {
    ...Product
    reviews {
      ...Review
      author {
        ...User
        reviews {
          ...Review
          product {
            ...Product
          }
        }
      }
    }
  }
}`;

export const QUERIES: BenchQuery[] = [
  { name: 'deep', workload: 'a', title: 'public benchmark TestQuery', body: { query: DEEP, operationName: 'TestQuery' } },
  { name: 'small', workload: 'a', title: 'topProducts(first: 5) { name price }', body: { query: 'query Small { topProducts(first: 5) { name price } }', operationName: 'Small' } },
  {
    name: 'onehop',
    workload: 'a',
    title: 'topProducts(first: 5) { upc name price inStock }',
    body: { query: 'query OneHop { topProducts(first: 5) { upc name price inStock } }', operationName: 'OneHop' },
  },
  {
    name: 'catalog',
    workload: 'b',
    title: 'courses(first: 20) { … instructor { name } }',
    body: {
      query: 'query CatalogPage { courses(first: 20) { totalCount edges { node { id slug title price { amount currency } lessonCount instructor { name } } } pageInfo { hasNextPage endCursor } } }',
      operationName: 'CatalogPage',
    },
  },
  {
    name: 'learning',
    workload: 'b',
    title: 'me { enrollments … course { title instructor { name } } } (student)',
    body: {
      query:
        'query MyLearning { me { id name enrollments(first: 10) { totalCount edges { node { id status course { title instructor { name } } progress { completedLessons totalLessons percent } } } } } }',
      operationName: 'MyLearning',
    },
    asStudent: true,
  },
  {
    name: 'payments',
    workload: 'b',
    title: 'me { payments … course { title } } (student)',
    body: {
      query:
        'query MyPayments { me { id payments(first: 10) { totalCount edges { node { id status amount { amount currency } paidAt receipt { number } course { title } } } } } }',
      operationName: 'MyPayments',
    },
    asStudent: true,
  },
];

/** BENCH_QUERIES: comma-separated names (default all); unknown names are an error. */
export function selectQueries(list: string | undefined): BenchQuery[] {
  if (!list?.trim()) return QUERIES;
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !QUERIES.some((q) => q.name === n));
  if (unknown.length) throw new Error(`BENCH_QUERIES: unknown ${unknown.join(', ')}; known: ${QUERIES.map((q) => q.name).join(', ')}`);
  return QUERIES.filter((q) => names.includes(q.name));
}
