/**
 * Every service's HTTP server (packages/kit/src/core/express-server.ts), over real HTTP and a real
 * WebSocket upgrade: requests and responses have the app's prototypes from the moment Node builds
 * them, and Node's and Express's behaviour on them is unchanged.
 */
import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { WebSocket, WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressServer } from '../src/core/express-server.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function listen(s: Server): Promise<string> {
  server = s;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('createExpressServer', () => {
  it("builds requests and responses with the app's prototypes, before Express sees them", async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.post('/echo', express.json(), (req, res) => void res.status(201).json({ body: req.body, ip: req.ip, header: req.get('x-test') }));
    const born: boolean[] = [];
    const host = await listen(
      createExpressServer(app, (req, res) => {
        // Before Express touches them.
        born.push(Object.getPrototypeOf(req) === app.request, Object.getPrototypeOf(res) === app.response);
        born.push(req instanceof IncomingMessage, res instanceof ServerResponse);
        app(req, res);
      }),
    );
    const res = await fetch(`http://${host}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test': 'yes', 'x-forwarded-for': '203.0.113.9' },
      body: '{"a":1}',
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ body: { a: 1 }, ip: '203.0.113.9', header: 'yes' });
    const missing = await fetch(`http://${host}/nowhere`);
    expect(missing.status).toBe(404);
    expect(born).toEqual([true, true, true, true, true, true, true, true]);
  });

  it('serves the app by default, and upgrades to a WebSocket as a plain server does', async () => {
    const app = express();
    app.get('/health', (_req, res) => void res.type('text').send('ok'));
    const httpServer = createExpressServer(app);
    const wss = new WebSocketServer({ noServer: true });
    let upgradeBorn: boolean | undefined;
    httpServer.on('upgrade', (req, socket, head) => {
      upgradeBorn = Object.getPrototypeOf(req) === app.request;
      wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello ${req.url}`));
    });
    const host = await listen(httpServer);
    const health = await fetch(`http://${host}/health`);
    expect(health.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await health.text()).toBe('ok');
    const ws = new WebSocket(`ws://${host}/graphql`);
    const message = await new Promise<string>((resolve, reject) => {
      ws.on('message', (data) => resolve(String(data)));
      ws.on('error', reject);
    });
    ws.close();
    wss.close();
    expect(message).toBe('hello /graphql');
    expect(upgradeBorn).toBe(true);
  });
});
