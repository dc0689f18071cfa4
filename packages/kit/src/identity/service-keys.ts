/**
 * The keys a service signs its requests to other services with, and where a verifier finds the
 * public half. Ed25519 ("EdDSA"), one key pair per signing service (the router, payments): a
 * subgraph holds only public keys, so it cannot sign as anyone else.
 *
 *   <NAME>_SIGNING_KEYS   one or more PKCS#8 PEM private keys; the first signs, all are published
 *                         (what makes rotation possible: publish the next key before signing with it)
 *   <NAME>_JWKS           a verifier's view of a signer's public keys: the URL of its published
 *                         JWKS (fetched, cached, fetched again for an unknown `kid`), or the JWKS
 *                         document itself (keys distributed by configuration)
 *
 * docs/identity/service-identity.md has the whole scheme, with rotation step by step.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';

/** Where a signing service publishes its public keys (the router and payments alike). */
export const SERVICE_JWKS_PATH = '/.well-known/service-jwks.json';
export const SERVICE_SIGNATURE_ALG = 'EdDSA';

/**
 * How long a verifier trusts a fetched JWKS before fetching it again, and so the least time to
 * wait between publishing a new key and signing with it (an unknown `kid` also triggers a fetch,
 * at most once per cooldown, which covers most but not all of that wait).
 */
export const JWKS_CACHE_MAX_AGE_MS = 5 * 60_000;
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_FETCH_TIMEOUT_MS = 5_000;

export interface ServiceKey {
  kid: string;
  privateKey: KeyObject;
  /** The public half as published: `kty`, `crv`, `x`, `kid`, `alg`, `use`. */
  publicJwk: JWK;
}

/** A new Ed25519 private key as PKCS#8 PEM (what *_SIGNING_KEYS holds). */
export function generateServiceKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

const PEM_BLOCK = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/g;

/** The PEM blocks of a *_SIGNING_KEYS value, in order; `\n` escapes (one-line .env values) count as newlines. */
export function splitPemBlocks(value: string): string[] {
  return value.replace(/\\n/g, '\n').match(PEM_BLOCK) ?? [];
}

/** What is wrong with a *_SIGNING_KEYS value, or undefined. */
export function signingKeysProblem(value: string): string | undefined {
  const blocks = splitPemBlocks(value);
  if (blocks.length === 0) return 'must hold one or more PKCS#8 PEM private keys (-----BEGIN PRIVATE KEY----- ...)';
  for (const [i, pem] of blocks.entries()) {
    let type: string | undefined;
    try {
      type = createPrivateKey(pem).asymmetricKeyType;
    } catch {
      return `key ${i + 1} is not a readable PKCS#8 PEM private key`;
    }
    if (type !== 'ed25519') return `key ${i + 1} is an ${type} key; service keys are Ed25519`;
  }
  return undefined;
}

/** zod type of a *_SIGNING_KEYS variable: the PEM blocks, validated. */
export const signingKeysEnv = () =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = signingKeysProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform(splitPemBlocks);

export function loadServiceKey(pem: string): ServiceKey {
  const privateKey = createPrivateKey(pem);
  const { kty, crv, x } = createPublicKey(privateKey).export({ format: 'jwk' });
  // The JWK thumbprint (SHA-256 of the required members in lexicographic order), as the users
  // service's token keys use (subgraphs/users/src/signing-keys.ts): the kid changes with the key,
  // so two keys in one JWKS never collide.
  const kid = createHash('sha256').update(JSON.stringify({ crv, kty, x })).digest('base64url');
  return { kid, privateKey, publicJwk: { kty, crv, x, kid, alg: SERVICE_SIGNATURE_ALG, use: 'sig' } };
}

/** The JWKS that publishes these keys' public halves (what <NAME>_JWKS may hold inline). */
export function publicJwks(pems: string[]): JSONWebKeySet {
  return { keys: pems.map((pem) => loadServiceKey(pem).publicJwk) };
}

function inlineJwks(source: string): JSONWebKeySet | undefined {
  if (!source.trimStart().startsWith('{')) return undefined;
  return JSON.parse(source) as JSONWebKeySet;
}

/** What is wrong with a <NAME>_JWKS value (a URL or a JWKS document), or undefined. */
export function jwksSourceProblem(source: string): string | undefined {
  let jwks: JSONWebKeySet | undefined;
  try {
    jwks = inlineJwks(source);
  } catch {
    return 'is neither a URL nor a JSON JWKS document';
  }
  if (!jwks) {
    return z.url({ protocol: /^https?$/ }).safeParse(source.trim()).success ? undefined : 'must be the http(s) URL of a JWKS or a JWKS document ({"keys":[...]})';
  }
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) return 'a JWKS document needs a non-empty "keys" array';
  const bad = jwks.keys.findIndex((k) => k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string' || typeof k.kid !== 'string' || 'd' in k);
  if (bad >= 0) return `key ${bad + 1} is not a public Ed25519 JWK with a kid (and no private part)`;
  return undefined;
}

/** zod type of a <NAME>_JWKS variable, defaulting to a URL. */
export const jwksSourceEnv = (defaultUrl: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = jwksSourceProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(defaultUrl);

/** The key lookup jose verifies with, from a <NAME>_JWKS value. */
export function keySetFrom(source: string): JWTVerifyGetKey {
  const jwks = inlineJwks(source);
  if (jwks) return createLocalJWKSet(jwks);
  return createRemoteJWKSet(new URL(source.trim()), {
    cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
    timeoutDuration: JWKS_FETCH_TIMEOUT_MS,
  });
}
