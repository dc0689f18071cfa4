/**
 * Access tokens for tests of one service, without the users service: minted with a throwaway
 * Ed25519 key in the shape users issues them (docs/identity/sessions.md: EdDSA, the claims of
 * REQUIRED_CLAIMS, issuer and audience), so the service under test verifies them as it would
 * verify the real ones, against `jwks`.
 */
import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type Role } from '@campus/kit/identity';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';

const ALG = 'EdDSA';

export interface MintOptions {
  id: string;
  role: Role;
  /** The session (refresh-token family) the token belongs to; a fresh one by default. */
  sessionId?: string;
  /** Default 900 s, what users issues. */
  lifetimeSeconds?: number;
}

export interface TokenMinter {
  /** The public key set a verifier is given (localTokenVerifier, or a JWKS endpoint's body). */
  jwks: JSONWebKeySet;
  /** The private key as PKCS#8 PEM (USERS_JWT_PRIVATE_KEY, to make the users service sign with it). */
  pem: string;
  mint(options: MintOptions): Promise<string>;
}

export async function createTokenMinter(): Promise<TokenMinter> {
  const { privateKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
  const { d: _private, ...publicJwk } = await exportJWK(privateKey as CryptoKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    jwks: { keys: [{ ...publicJwk, kid, alg: ALG, use: 'sig' }] },
    pem: await exportPKCS8(privateKey as CryptoKey),
    async mint({ id, role, sessionId = randomUUID(), lifetimeSeconds = 900 }) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ role, sid: sessionId })
        .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
        .setSubject(id)
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + lifetimeSeconds)
        .setJti(randomUUID())
        .sign(privateKey);
    },
  };
}
