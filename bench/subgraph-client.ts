/**
 * npm run bench:subgraph-client [-- --rounds N --exchanges N --concurrency N]
 *
 * The router's subgraph HTTP client (router/src/subgraph-fetcher.ts, undici's pool) side by side with
 * the same exchange over `node:http` as the client did it before (a keep-alive Agent, one
 * ClientRequest per exchange, its response read whole; docs/performance.md, "Fetches and start, side
 * by side"): the client process's CPU per exchange, which is what a subgraph fetch costs the router.
 *
 * The subgraph is a plain `node:http` server in a child process answering every POST with the
 * one-hop query's entity answer; the request is that query's `_entities` fetch with a signature-sized
 * header. With `taskset`, the server runs on core 0 and this process on the last core. Each round
 * runs both clients, alternating which goes first; reported are the medians and their ratio.
 */
import { spawn, spawnSync } from 'node:child_process';
import { Agent, request, type IncomingMessage } from 'node:http';
import { cpus } from 'node:os';
import { createSubgraphHttpClient } from '@campus/router/subgraph-fetcher';
import { median, table } from './lib/stats.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROUNDS = option('--rounds', 3);
const EXCHANGES = option('--exchanges', 20_000);
const CONCURRENCY = option('--concurrency', 50);

const SERVER = `
const answer = JSON.stringify({ data: { _entities: Array.from({ length: 5 }, (_, i) => ({ __typename: 'Product', inStock: i % 2 === 0 })) } });
require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(answer); });
}).listen(0, '127.0.0.1', function () { process.send(this.address().port); });
`;

const pinned = spawnSync('taskset', ['-V']).status === 0 && cpus().length > 1;
if (pinned) spawnSync('taskset', ['-apc', String(cpus().length - 1), String(process.pid)]);
const server = spawn(pinned ? 'taskset' : process.execPath, [...(pinned ? ['-c', '0', process.execPath] : []), '-e', SERVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise<number>((resolve) => server.once('message', (p) => resolve(p as number)));
const url = `http://127.0.0.1:${port}/graphql`;

const body = JSON.stringify({
  query: 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{inStock}}}',
  variables: { representations: Array.from({ length: 5 }, (_, i) => ({ __typename: 'Product', upc: String(i + 1) })) },
});
const headers = { 'content-type': 'application/json', authorization: 'Bearer a.b.c', 'x-request-id': 'bench', 'x-campus-signature': 'x'.repeat(700) };
const expired = () => new Error('expired');

/** One exchange over `node:http`, as router/src/subgraph-fetcher.ts did it before undici. */
function nodeHttpClient(): () => Promise<unknown> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
  const target = new URL(url);
  return () =>
    new Promise((resolve, reject) => {
      const req = request({ agent, hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } });
      const timer = setTimeout(() => req.destroy(expired()), 10_000);
      req.once('error', reject);
      req.once('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          clearTimeout(timer);
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        });
        res.once('error', reject);
        res.once('close', () => {});
      });
      req.end(body);
    });
}

function routerClient(): () => Promise<unknown> {
  const client = createSubgraphHttpClient(url, { maxResponseBytes: 16 * 1024 * 1024 });
  return async () => (await client.post({ headers: { ...headers }, body, timeoutMs: 10_000, expired })).json();
}

/** Microseconds of this process's CPU per exchange, CONCURRENCY exchanges in flight. */
async function measure(exchange: () => Promise<unknown>): Promise<{ cpuUs: number; perSecond: number }> {
  for (let i = 0; i < 1_000; i++) await exchange(); // warm: connections open, code optimized
  const cpu = process.cpuUsage();
  const started = performance.now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < EXCHANGES) {
        sent++;
        await exchange();
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / EXCHANGES, perSecond: EXCHANGES / ((performance.now() - started) / 1000) };
}

const clients = { 'node:http (before)': nodeHttpClient(), 'undici pool (router/src/subgraph-fetcher.ts)': routerClient() };
const samples = new Map<string, { cpuUs: number; perSecond: number }[]>();
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 ? Object.entries(clients) : Object.entries(clients).reverse();
  for (const [name, exchange] of order) {
    const result = await measure(exchange);
    samples.set(name, [...(samples.get(name) ?? []), result]);
    console.error(`round ${round} ${name}: ${result.cpuUs.toFixed(1)} µs CPU per exchange, ${Math.round(result.perSecond)}/s`);
  }
}
server.kill();

const [before, after] = [...samples.values()].map((s) => median(s.map((x) => x.cpuUs)));
console.log(`${ROUNDS} rounds of ${EXCHANGES} exchanges, ${CONCURRENCY} in flight${pinned ? ', client and server on cores of their own' : ''}; medians`);
console.log(
  table(
    ['client', 'CPU per exchange', 'exchanges/s', 'ratio'],
    [...samples].map(([name, s], i) => [
      name,
      `${median(s.map((x) => x.cpuUs)).toFixed(1)} µs`,
      String(Math.round(median(s.map((x) => x.perSecond)))),
      i === 0 ? '1.00x' : `${(after! / before!).toFixed(2)}x`,
    ]),
  ),
);
process.exit(0);
