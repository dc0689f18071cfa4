/**
 * Demand control's cost model against the composed supergraph (npm run compose writes it): what
 * the @cost and @listSize annotations of the subgraph schemas make of real operations.
 */
import { readFileSync } from 'node:fs';
import { Supergraph } from '../src/planning/federation-adapter.mjs';
import { getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { costModel } from '../src/edge/cost.ts';

const sdl = readFileSync(new URL('../supergraph.graphql', import.meta.url), 'utf8');
const apiSchema = Supergraph.build(sdl).apiSchema().toGraphQLJSSchema();
const DEFAULT_LIST_SIZE = 10;
const model = costModel(apiSchema, sdl, DEFAULT_LIST_SIZE);

const estimate = (query: string, variables: Record<string, unknown> = {}) => {
  const document = parse(query);
  return model.estimate(document, getOperationAST(document)!, variables);
};

describe('the cost model', () => {
  it('multiplies a connection’s edges by `first`, from a literal or a variable', () => {
    // courses (1) + first × (edge 1 + node 1) ; scalars are free.
    expect(estimate('{ courses(first: 7) { edges { node { id title } } } }')).toBe(1 + 7 * 2);
    expect(estimate('query($n: Int) { courses(first: $n) { edges { node { id } } } }', { n: 40 })).toBe(1 + 40 * 2);
  });

  it('uses the assumed size of a connection when `first` is omitted, and @listSize on plain lists', () => {
    // @listSize(assumedSize: 20) on courses; @listSize(assumedSize: 50) on Course.lessons.
    expect(estimate('{ courses { edges { node { id } } } }')).toBe(1 + 20 * 2);
    expect(estimate('{ course(id: "c") { lessons { title } } }')).toBe(1 + 50 * 1);
  });

  it('charges a mutation field 10 (its payload included) and the password-hashing ones what @cost says', () => {
    expect(estimate('mutation { logOut(input: { refreshToken: "t" }) { success } }')).toBe(10);
    expect(estimate('mutation { signUp(input: { email: "a@b.c", password: "p", name: "n" }) { accessToken } }')).toBe(50);
    expect(estimate('mutation { a: signUp(input: { email: "a@b.c", password: "p", name: "n" }) { accessToken } b: signUp(input: { email: "b@b.c", password: "p", name: "n" }) { accessToken } }')).toBe(2 * 50);
  });

  it('costs fragments as their selections, and a fragment spread many times in linear time', () => {
    const inline = estimate('{ courses(first: 3) { edges { node { id instructor { name } } } } }');
    expect(estimate('{ courses(first: 3) { ...Page } } fragment Page on CourseConnection { edges { node { id instructor { name } } } }')).toBe(inline);

    // Each fragment spreads the next one 8 times: 8^12 expansions if walked naively.
    const levels = 12;
    let fragments = 'fragment F0 on User { name }';
    for (let i = 1; i <= levels; i++) fragments += ` fragment F${i} on User { ${Array.from({ length: 8 }, () => `...F${i - 1}`).join(' ')} }`;
    const started = Date.now();
    const cost = estimate(`{ me { ...F${levels} } } ${fragments}`);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(cost).toBe(1);
  });

  it('never lets an overflowing estimate pass as a small one', () => {
    let inner = 'id';
    for (let i = 0; i < 200; i++) inner = `instructor { coursesTaught(first: 100) { edges { node { ${inner} } } } }`;
    expect(estimate(`{ courses(first: 100) { edges { node { ${inner} } } } }`)).toBe(Infinity);
  });

  it('counts the actual cost on the response, with real list lengths', () => {
    const document = parse('{ courses(first: 50) { edges { node { id instructor { name } } } } }');
    const data = { courses: { edges: [{ node: { id: '1', instructor: { name: 'a' } } }, { node: { id: '2', instructor: { name: 'b' } } }] } };
    expect(model.actual(document, getOperationAST(document)!, data)).toBe(1 + 2 * 3);
    expect(model.actual(document, getOperationAST(document)!, { courses: { edges: [] } })).toBe(1);
  });
});
