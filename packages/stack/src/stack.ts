/**
 * startStack: the router and every subgraph in one process, each on its own port. This is the
 * embedded default behind `npm start` (ports 4000-4003, PGlite under .data/) and the harness
 * end-to-end tests use (port 0, in-memory PGlite or throwaway PostgreSQL databases).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLogger, type Env, type Logger } from '@campus/kit';
import { composeSupergraph, readSupergraphConfig } from '@campus/router/compose';
import { loadConfig as loadRouterConfig } from '@campus/router/config';
import { createRouter, type Router } from '@campus/router';
import { loadConfig as loadUsersConfig } from '@campus/users/config';
import { JWKS_PATH } from '@campus/users/server';
import { createUsersService, type UsersService } from '@campus/users/service';

export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;

export interface StackOptions {
  /** Environment the services' configs are read from (process.env for `npm start`). */
  env: Env;
  ports: { router: number; users: number };
  /** Where embedded databases, keys and the composed supergraph live; absent = in memory / temp. */
  dataDir?: string | undefined;
  logLevel?: string;
  /** Interface to bind; absent = every interface (IPv4 and IPv6), as `npm start` wants for localhost. */
  host?: string;
}

export interface Stack {
  routerUrl: string;
  urls: { router: string; users: string };
  users: UsersService;
  router: Router;
  supergraphPath: string;
  logger: Logger;
  close(): Promise<void>;
}

const urlOf = (server: { address(): AddressInfo | string | null }) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function listen(server: import('node:http').Server, port: number, host?: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return urlOf(server);
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const logLevel = options.logLevel ?? options.env.LOG_LEVEL ?? 'info';
  const logger = createLogger('stack', logLevel);
  // One process, so one secret shared by router and subgraphs; generated unless configured.
  const secret = options.env.ROUTER_SIGNING_SECRET ?? randomBytes(32).toString('hex');
  const env: Env = { ...options.env, ROUTER_SIGNING_SECRET: secret, LOG_LEVEL: logLevel };
  const dataDir = options.dataDir;
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  const users = await createUsersService(
    loadUsersConfig({ ...env, USERS_DATA_DIR: env.USERS_DATA_DIR ?? (dataDir && join(dataDir, 'users')) }),
    createLogger('users', logLevel),
  );
  const usersUrl = await listen(users.server.httpServer, options.ports.users, options.host);

  // Compose supergraph.yaml with the addresses the subgraphs actually listen on.
  const actual: Record<string, string> = { users: usersUrl };
  const sources = readSupergraphConfig(join(REPO_ROOT, 'supergraph.yaml')).map((s) => ({ ...s, url: `${actual[s.name] ?? s.url}/graphql` }));
  const supergraphDir = dataDir ?? join(REPO_ROOT, '.data', `tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(supergraphDir, { recursive: true });
  const supergraphPath = join(supergraphDir, 'supergraph.graphql');
  writeFileSync(supergraphPath, composeSupergraph(sources));

  const routerConfig = loadRouterConfig({ ...env, SUPERGRAPH_PATH: supergraphPath, JWKS_URL: `${usersUrl}${JWKS_PATH}` });
  const router = createRouter(routerConfig, { logger: createLogger('router', logLevel) });
  const routerUrl = await listen(router.httpServer, options.ports.router, options.host);
  await router.start();

  return {
    routerUrl: `${routerUrl}/graphql`,
    urls: { router: routerUrl, users: usersUrl },
    users,
    router,
    supergraphPath,
    logger,
    async close() {
      await router.stop();
      await users.close();
    },
  };
}
