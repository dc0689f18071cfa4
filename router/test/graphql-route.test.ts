/**
 * The GraphQL route without Express's router (router/src/graphql-route.ts), over real HTTP: the
 * paths it takes are the ones `app.all(['/', '/graphql'])` matched, the handlers see Express's
 * request and response, and an error reaches the error handler however a handler raises it. The
 * router's own edges through it: packages/stack/test/router/http-edges.e2e.test.ts.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { createExpressServer } from '@campus/kit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { graphqlRoute, isGraphqlPath } from '../src/graphql-route.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function listen(configure: (app: express.Express, route: ReturnType<typeof graphqlRoute>) => void): Promise<string> {
  const app = express();
  app.set('trust proxy', 'loopback');
  const route = graphqlRoute(app);
  configure(app, route);
  // As the router's server (server.ts): requests and responses born with the app's prototypes.
  server = createExpressServer(app, route.listener);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const onError: ErrorRequestHandler = (err: Error, _req, res, _next) => {
  res.status(500).json({ caught: err.message });
};

describe('graphqlRoute', () => {
  it('takes the paths app.all(["/", "/graphql"]) matches, and no other', () => {
    // As Express 5 matched them (an optional trailing slash, so '//' too; no decoding).
    for (const path of ['/', '//', '/graphql', '/graphql/', '/GraphQL', '/graphql?query=x', '/?a=1']) expect(isGraphqlPath(path), path).toBe(true);
    for (const path of ['/graphqlx', '/graphql/x', '/%67raphql', '/health', '/graphql//', '', undefined]) expect(isGraphqlPath(path), String(path)).toBe(false);
  });

  it('leaves every request to the app until served, and the other paths after', async () => {
    let route!: ReturnType<typeof graphqlRoute>;
    const base = await listen((app, r) => {
      route = r;
      app.all('/graphql', (_req, res) => void res.send('app'));
      app.get('/health', (_req, res) => void res.send('health'));
    });
    expect(await (await fetch(`${base}/graphql`)).text()).toBe('app');
    route.serve([(_req, res) => void res.send('route')], onError);
    expect(await (await fetch(`${base}/graphql`, { method: 'POST' })).text()).toBe('route');
    expect(await (await fetch(`${base}/health`)).text()).toBe('health');
  });

  it("runs the handlers in order with Express's request and response, as the app's settings make them", async () => {
    const seen: string[] = [];
    const base = await listen((_app, route) =>
      route.serve(
        [
          express.json(),
          (req, _res, next) => {
            seen.push(`ip ${req.ip}`, `header ${req.get('x-test')}`, `url ${req.originalUrl}`);
            next();
          },
          (req, res) => void res.status(201).json({ body: req.body }),
        ],
        onError,
      ),
    );
    const res = await fetch(`${base}/graphql?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test': 'yes', 'x-forwarded-for': '203.0.113.9' },
      body: '{"query":"{ a }"}',
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ body: { query: '{ a }' } });
    // 'trust proxy' is loopback: the forwarded client counts, as it would under Express's router.
    expect(seen).toEqual(['ip 203.0.113.9', 'header yes', 'url /graphql?x=1']);
  });

  it('sends an error to the error handler whether passed to next, thrown or rejected, and skips the rest', async () => {
    const raise: Record<string, RequestHandler> = {
      next: (_req, _res, next) => next(new Error('passed')),
      throw: () => {
        throw new Error('thrown');
      },
      reject: async () => {
        throw new Error('rejected');
      },
    };
    const base = await listen((_app, route) =>
      route.serve(
        [
          (req, res, next) => {
            const how = req.get('x-raise');
            return how ? raise[how]!(req, res, next) : next();
          },
          (_req, res) => void res.send('reached'),
        ],
        onError,
      ),
    );
    for (const [how, message] of [['next', 'passed'], ['throw', 'thrown'], ['reject', 'rejected']]) {
      const res = await fetch(`${base}/graphql`, { headers: { 'x-raise': how! } });
      expect(res.status, how).toBe(500);
      expect(await res.json(), how).toEqual({ caught: message });
    }
    expect(await (await fetch(`${base}/graphql`)).text()).toBe('reached');
  });

  it('answers 404 when the handlers all pass the request on, as Express would', async () => {
    const base = await listen((_app, route) => route.serve([(_req, _res, next) => next()], onError));
    expect((await fetch(`${base}/`)).status).toBe(404);
  });
});
