/**
 * The router's subgraph HTTP client (router/src/subgraph-fetcher.ts) against real local HTTP
 * servers: answers read whole, the timer over headers and body, the size cap, socket errors with
 * their codes, and keep-alive reuse of connections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSubgraphHttpClient, SubgraphResponseTooLarge, type SubgraphHttpClient } from '../src/subgraph-fetcher.ts';

class Expired extends Error {}
const expired = () => new Expired('expired');

const servers: Server[] = [];
const clients: SubgraphHttpClient[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', (socket) => sockets.add(socket));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql?x=1`, sockets };
}

function client(url: string, maxResponseBytes = 1_000_000) {
  const c = createSubgraphHttpClient(url, { maxResponseBytes });
  clients.push(c);
  return c;
}

const post = (c: SubgraphHttpClient, body = '{"query":"{ a }"}', timeoutMs = 2_000) =>
  c.post({ headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body, timeoutMs, expired });

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('subgraph HTTP client', () => {
  it('posts the body and headers to the path and reads the whole answer as a fetch Response reads', async () => {
    const { url } = await serve((req, res, body) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('cache-control', 'max-age=30');
      res.end(JSON.stringify({ data: { method: req.method, url: req.url, header: req.headers['x-test'], length: req.headers['content-length'], body, é: 'ü' } }));
    });
    const c = client(url);
    expect(c.path).toBe('/graphql?x=1');
    const r = await post(c, '{"query":"{ é }"}');
    expect(r.ok).toBe(true);
    expect(r.status).toBe(200);
    expect(r.url).toBe(url);
    expect(r.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('max-age=30');
    expect(r.headers.get('x-absent')).toBeNull();
    expect(await r.json()).toEqual({
      data: { method: 'POST', url: '/graphql?x=1', header: 'yes', length: String(Buffer.byteLength('{"query":"{ é }"}')), body: '{"query":"{ é }"}', é: 'ü' },
    });
  });

  it('gives a non-2xx answer with its status and body, for RemoteGraphQLDataSource to turn into an error', async () => {
    const { url } = await serve((_req, res) => {
      res.statusCode = 503;
      res.statusMessage = 'Service Unavailable';
      res.end('draining');
    });
    const r = await post(client(url));
    expect(r.ok).toBe(false);
    expect(r.status).toBe(503);
    expect(r.statusText).toBe('Service Unavailable');
    expect(await r.text()).toBe('draining');
  });

  it('reuses keep-alive connections for fetches one after another', async () => {
    const { url, sockets } = await serve((_req, res) => res.end('{}'));
    const c = client(url);
    for (let i = 0; i < 20; i++) await post(c);
    // The pool may open a second connection for the next fetch while it is still putting the
    // first back after its answer, and then takes turns between the two; never one per fetch.
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('throws the caller’s error at the timeout when no headers come, and closes the connection', async () => {
    let closed = false;
    const { url } = await serve((_req, res) => res.on('close', () => (closed = true)));
    const started = performance.now();
    await expect(post(client(url), '{}', 150)).rejects.toBeInstanceOf(Expired);
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect.poll(() => closed).toBe(true);
  });

  it('times out an answer whose body stalls after its headers (the timer covers the body too)', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":');
    });
    await expect(post(client(url), '{}', 150)).rejects.toBeInstanceOf(Expired);
  });

  it('refuses an answer over the size cap, declared or streamed, and stops reading it', async () => {
    const big = 'x'.repeat(5_000);
    const declared = await serve((_req, res) => res.end(big));
    await expect(post(client(declared.url, 1_000))).rejects.toBeInstanceOf(SubgraphResponseTooLarge);
    const streamed = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 5; i++) res.write(big);
      res.end();
    });
    await expect(post(client(streamed.url, 12_000))).rejects.toMatchObject({ limit: 12_000 });
    // Under the cap, the same answer passes.
    expect((await (await post(client(streamed.url, 25_000))).text()).length).toBe(25_000);
  });

  it('reports a refused connection and a connection closed mid-answer with their socket codes', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"data":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await expect(post(client(url))).rejects.toMatchObject({ code: 'ECONNRESET' });
    const refusing = createServer();
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', () => r()));
    const port = (refusing.address() as AddressInfo).port;
    await new Promise((r) => refusing.close(r));
    await expect(post(client(`http://127.0.0.1:${port}/graphql`))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
