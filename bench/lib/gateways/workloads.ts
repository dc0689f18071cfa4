/**
 * The subgraphs each workload of `npm run bench:gateways` runs behind the gateways, and how their
 * fetches are counted at the subgraphs:
 *
 *   (a) the public gateways benchmark's four subgraphs (subgraphs-process.ts), composed here with
 *       the repository's own composition (router/src/compose.ts); fetches counted by the process
 *   (b) Campus's stack on seeded PGlite (bench/lib/stack-process.ts, as the edge and observability
 *       benchmarks run it); fetches counted from each subgraph's own /metrics
 *       (campus_graphql_requests_total, packages/kit/src/subgraph/graphql-metrics.ts)
 *
 * Both are forked by this (pinned) process, so they inherit its cores (pinning.ts).
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import { createRequestSigner, generateServiceKeyPem, ROUTER_ISSUER } from '@campus/kit/identity';
import { composeSupergraph } from '@campus/router/compose';
import { logIn } from '@campus/test-kit';
import { forkStack } from '../campus-stack.ts';
import { forkChildRpcFrom } from './child.ts';
import type { WorkloadName } from './queries.ts';
import type { SubgraphCounts, SubgraphsReady } from './subgraphs-process.ts';
import { BENCHMARK_SUBGRAPHS } from './benchmark-subgraphs.ts';

export interface Workload {
  name: WorkloadName;
  title: string;
  supergraphPath: string;
  /** The users JWKS the router verifies access tokens with (JWKS_URL). */
  jwksUrl: string;
  /** The router's signing key (ROUTER_SIGNING_KEYS); the plain gateway signs with it in (b). */
  routerKey: string;
  /** Whether the plain gateway must sign (Campus subgraphs refuse unsigned requests). */
  plainSigns: boolean;
  /** The process serving the subgraphs, for its CPU time. */
  subgraphsPid: number;
  /** Subgraph GraphQL requests answered so far, all subgraphs together. */
  fetches(): Promise<number>;
  /** Problems seen at the subgraphs so far (refused signatures), empty when none. */
  problems(): Promise<string[]>;
  /** A fresh access token of the demo student (workload b only). */
  studentToken(): Promise<string>;
  /**
   * Has the subgraphs answer `body` once without a gateway under test, so that the first gateway
   * started is not charged for their first query (PGlite and Prisma warming up in workload b).
   */
  warm(body: unknown): Promise<void>;
  /** How the subgraphs check signatures, for the report. */
  verification: string;
  stop(): Promise<void>;
}

const SUBGRAPHS_ENTRY = new URL('./subgraphs-process.ts', import.meta.url).pathname;

export async function startBenchmarkSubgraphs(tmp: string, verify: 'signed' | 'off'): Promise<Workload> {
  const routerKey = generateServiceKeyPem();
  const jwks = JSON.stringify(createRequestSigner(ROUTER_ISSUER, [routerKey]).jwks);
  const child = fork(SUBGRAPHS_ENTRY, [], {
    execArgv: ['--conditions=source', '--import', 'tsx'],
    env: { ...process.env, BENCH_ROUTER_JWKS: jwks, BENCH_VERIFY: verify },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const rpc = forkChildRpcFrom(child, 'benchmark subgraphs', 10_000);
  const ready = await rpc.ready<SubgraphsReady>(60_000);
  const supergraph = composeSupergraph(BENCHMARK_SUBGRAPHS.map((name) => ({ name, url: ready.urls[name], sdl: ready.sdl[name] })));
  const supergraphPath = join(tmp, 'benchmark-supergraph.graphql');
  writeFileSync(supergraphPath, supergraph);
  const counts = () => rpc.request<SubgraphCounts>({ type: 'counts' });
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    name: 'a',
    title: 'the public gateways benchmark (accounts, inventory, products, reviews)',
    supergraphPath,
    jwksUrl: ready.jwksUrl,
    routerKey,
    plainSigns: false,
    subgraphsPid: child.pid!,
    fetches: async () => {
      const c = await counts();
      return sum(c.signed) + sum(c.unsigned);
    },
    problems: async () => {
      const c = await counts();
      return c.refused ? [`the benchmark subgraphs refused ${c.refused} signed requests`] : [];
    },
    studentToken: () => Promise.reject(new Error('workload (a) has no tokens')),
    // In memory, nothing to warm.
    warm: async () => {},
    verification:
      verify === 'off'
        ? 'BENCH_VERIFY=off: the router signs, the subgraphs check nothing'
        : "signed fetches (the router's) verified as Campus subgraphs verify them; unsigned ones (the plain gateway's) let through",
    stop: () => rpc.stop(),
  };
}

export async function startCampusStack(seedScale: string, logLevel: string): Promise<Workload> {
  const routerKey = generateServiceKeyPem();
  const stack = await forkStack({ ROUTER_SIGNING_KEYS: routerKey, SEED_SCALE: seedScale, LOG_LEVEL: logLevel });
  const metricsUrls = Object.entries(stack.urls)
    .filter(([name]) => name !== 'router')
    .map(([, url]) => new URL('/metrics', url).href);
  const fetches = async () => {
    let total = 0;
    for (const url of metricsUrls) {
      const text = await (await fetch(url)).text();
      for (const m of text.matchAll(/^campus_graphql_requests_total\{[^}]*\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/gm)) total += Number(m[1]);
    }
    return total;
  };
  const student = DEMO_ACCOUNTS[2];
  return {
    name: 'b',
    title: `Campus's supergraph (users, courses, payments) on seeded PGlite, seed scale ${seedScale}`,
    supergraphPath: stack.supergraphPath,
    jwksUrl: stack.jwksUrl,
    routerKey,
    plainSigns: true,
    subgraphsPid: stack.pid,
    fetches,
    problems: async () => [],
    // Through the stack's own embedded router, not a gateway under test.
    studentToken: async () => (await logIn(stack.routerUrl, student.email, DEMO_PASSWORD)).accessToken,
    warm: async (body) => {
      // Through the stack's embedded router (not measured), a few times: the first answers are slow.
      for (let i = 0; i < 3; i++) await fetch(stack.routerUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    },
    verification: 'every fetch verified (Campus subgraphs answer signed requests only); both gateways sign with the same key',
    stop: () => stack.stop(),
  };
}
