/**
 * Who is asking. Every service derives the viewer from the verified access token and nothing else.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { unauthenticated } from './errors.ts';

export const ROLES = ['STUDENT', 'INSTRUCTOR', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

export interface Viewer {
  id: string;
  role: Role;
  /** The login session (refresh-token family) the token was issued for. */
  sessionId: string;
}

export const ACCESS_TOKEN_ISSUER = 'campus-users';
export const ACCESS_TOKEN_AUDIENCE = 'campus';

export type TokenVerifier = (token: string) => Promise<Viewer>;

/** A verifier backed by the users service's JWKS (fetched over HTTP, cached and refreshed by jose). */
export function remoteTokenVerifier(jwksUrl: string): TokenVerifier {
  return tokenVerifier(createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 }));
}

/** A verifier for a key set held in memory (the users service verifies its own tokens this way). */
export function localTokenVerifier(jwks: JSONWebKeySet): TokenVerifier {
  return tokenVerifier(createLocalJWKSet(jwks));
}

function tokenVerifier(keys: JWTVerifyGetKey): TokenVerifier {
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        algorithms: ['EdDSA'],
      });
      const role = payload.role as Role;
      if (typeof payload.sub !== 'string' || !ROLES.includes(role) || typeof payload.sid !== 'string') {
        throw unauthenticated('The access token is missing required claims. Log in again.');
      }
      return { id: payload.sub, role, sessionId: payload.sid };
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) {
        throw unauthenticated('The access token has expired. Call refreshSession with your refresh token.');
      }
      if (e instanceof joseErrors.JOSEError) {
        throw unauthenticated('The access token is invalid. Log in again to get a new one.');
      }
      throw e;
    }
  };
}

/** Reads "Bearer <token>"; undefined when there is no authorization at all. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthenticated('The Authorization header must read "Bearer <access token>".');
  return match[1];
}

/** The viewer for a request: null when anonymous, an UNAUTHENTICATED error when the token is bad. */
export async function viewerFromAuthorization(
  verify: TokenVerifier,
  authorization: string | undefined,
): Promise<Viewer | null> {
  const token = bearerToken(authorization);
  return token ? verify(token) : null;
}
