/**
 * The embedded default (`npm start`: packages/stack/src/main.ts over startStack with a data
 * directory) makes the router's and payments' signing keys itself on first start, keeps them
 * under the data directory, and signs with the same keys after a restart, with nothing configured.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_JWKS_PATH } from '@campus/kit/identity';
import type { JSONWebKeySet } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVICE_KEY_FILE } from '../src/service-keys.ts';
import { startStack, type Stack } from '../src/stack.ts';
import { graphql } from '@campus/test-kit';

describe('service keys on the embedded default', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'campus-embedded-keys-'));
  const stacks: Stack[] = [];
  const start = async () => {
    const stack = await startStack({ env: { NODE_ENV: 'development' }, routerPort: 0, host: '127.0.0.1', dataDir, logLevel: 'silent' });
    stacks.push(stack);
    return stack;
  };
  const kids = async (stack: Stack) =>
    Object.fromEntries(
      await Promise.all(
        ['router', 'payments'].map(async (s) => [s, ((await (await fetch(`${stack.urls[s]}${SERVICE_JWKS_PATH}`)).json()) as JSONWebKeySet).keys.map((k) => k.kid)]),
      ),
    );
  afterAll(async () => {
    for (const s of stacks) await s.close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates the keys on first start, keeps them private on disk, and signs with them again after a restart', async () => {
    const first = await start();
    const published = await kids(first);
    expect(published.router).toHaveLength(1);
    expect(published.payments).toHaveLength(1);
    expect(published.router![0]).not.toBe(published.payments![0]);
    for (const service of ['router', 'payments']) expect(statSync(join(dataDir, service, SERVICE_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect((await graphql(first.routerUrl, '{ courses(first: 1) { totalCount } }')).data?.courses.totalCount).toBeTypeOf('number');
    await first.close();
    stacks.length = 0;

    const second = await start();
    expect(await kids(second)).toEqual(published);
    expect((await graphql(second.routerUrl, '{ courses(first: 1) { totalCount } }')).errors).toBeUndefined();
  });
});
