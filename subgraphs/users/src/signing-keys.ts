/**
 * The key pair that signs access tokens (Ed25519, "EdDSA"). Production passes the private key in
 * USERS_JWT_PRIVATE_KEY so every instance signs with the same key; the embedded default generates
 * one on first start and keeps it under its data directory, so tokens survive a restart; tests
 * generate one in memory. The `kid` is the key's JWK thumbprint, so it changes with the key.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type CryptoKey, type JSONWebKeySet } from 'jose';

export const SIGNING_ALG = 'EdDSA';

export interface SigningKeys {
  kid: string;
  privateKey: CryptoKey;
  jwks: JSONWebKeySet;
}

export async function loadSigningKeys(options: { pem?: string | undefined; dataDir?: string | undefined }): Promise<SigningKeys> {
  const pem = options.pem ?? (options.dataDir ? await persistedPem(options.dataDir) : await newPem());
  const privateKey = await importPKCS8(pem, SIGNING_ALG, { extractable: true });
  const { d: _private, ...publicJwk } = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, jwks: { keys: [{ ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }] } };
}

async function newPem(): Promise<string> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { crv: 'Ed25519', extractable: true });
  return exportPKCS8(privateKey);
}

async function persistedPem(dataDir: string): Promise<string> {
  const file = join(dataDir, 'jwt-signing-key.pem');
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const pem = await newPem();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, pem, { mode: 0o600 });
  return pem;
}
