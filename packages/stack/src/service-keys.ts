/**
 * The embedded default's service identities (docs/identity/service-identity.md): the router and
 * payments each sign with an Ed25519 key of their own, and the services they call hold only the
 * public halves. Unless configured (ROUTER_SIGNING_KEYS, PAYMENTS_SIGNING_KEYS), each key is
 * generated on first start and kept under <dataDir>/<service>/, so a restart keeps it, like the
 * users service's token key (subgraphs/users/src/signing-keys.ts); without a data directory (tests)
 * it lives in memory.
 *
 * Verifiers get the public keys inline (ROUTER_JWKS, PAYMENTS_JWKS) unless configured: the stack
 * starts every subgraph before the router listens, and courses before payments, so there is no
 * URL to fetch them from yet. Separate processes in production fetch them by URL instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '@campus/kit/core';
import { generateServiceKeyPem, publicJwks, signingKeysProblem, splitPemBlocks } from '@campus/kit/identity';

/** The services that sign their own requests, by the name they sign as (and env prefix). */
export const SIGNING_SERVICES = ['router', 'payments'] as const;

export const SERVICE_KEY_FILE = 'service-signing-key.pem';

function persistedKey(service: string, dataDir: string | undefined): string {
  if (!dataDir) return generateServiceKeyPem();
  const dir = join(dataDir, service);
  const file = join(dir, SERVICE_KEY_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const pem = generateServiceKeyPem();
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, pem, { mode: 0o600 });
  return pem;
}

/** <NAME>_SIGNING_KEYS and <NAME>_JWKS for every signing service, keeping what `env` configures. */
export function serviceIdentityEnv(env: Env, dataDir: string | undefined): Env {
  const identity: Env = {};
  for (const service of SIGNING_SERVICES) {
    const NAME = service.toUpperCase();
    const keys = env[`${NAME}_SIGNING_KEYS`] || persistedKey(service, dataDir);
    identity[`${NAME}_SIGNING_KEYS`] = keys;
    // Bad configured keys are left for the service's config to report, with every other problem.
    if (!env[`${NAME}_JWKS`] && !signingKeysProblem(keys)) identity[`${NAME}_JWKS`] = JSON.stringify(publicJwks(splitPemBlocks(keys)));
  }
  return identity;
}
