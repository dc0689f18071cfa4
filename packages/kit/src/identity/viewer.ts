/**
 * Who is asking. Every service derives the viewer from the verified access token and nothing else:
 * a valid signature, the claims of REQUIRED_CLAIMS, a bounded lifetime and a session that has not
 * ended (docs/identity/sessions.md).
 */
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { GraphQLError } from 'graphql';
import { unauthenticated } from '../core/errors.ts';
import { sessionEnded, type SessionRevocations } from './session-revocation.ts';

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

/**
 * What every verifier enforces beyond the signature (docs/identity/sessions.md): these claims
 * present, a bounded lifetime, and a session that has not ended.
 */
export const REQUIRED_CLAIMS = ['exp', 'iat', 'iss', 'aud', 'sub', 'sid'] as const;

export interface TokenPolicy {
  /** Ended sessions; asked on every verification, never cached (session-revocation.ts). */
  revocations: SessionRevocations;
  /** The longest lifetime (exp - iat) a token may claim; see ACCESS_TOKEN_MAX_LIFETIME_SECONDS. */
  maxLifetimeSeconds: number;
}

/** A verifier backed by the users service's JWKS (fetched over HTTP, cached and refreshed by jose). */
export function remoteTokenVerifier(jwksUrl: string, policy: TokenPolicy): TokenVerifier {
  return tokenVerifier(createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 }), policy);
}

/** A verifier for a key set held in memory (the users service verifies its own tokens this way). */
export function localTokenVerifier(jwks: JSONWebKeySet, policy: TokenPolicy): TokenVerifier {
  return tokenVerifier(createLocalJWKSet(jwks), policy);
}

const refused = (message: string) => unauthenticated(`${message} Log in again to get a new one.`);

function tokenVerifier(keys: JWTVerifyGetKey, policy: TokenPolicy): TokenVerifier {
  return async (token) => {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        algorithms: ['EdDSA'],
        requiredClaims: [...REQUIRED_CLAIMS],
        // With it jose also refuses an `iat` in the future.
        maxTokenAge: policy.maxLifetimeSeconds,
      }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) {
        throw unauthenticated('The access token has expired. Call refreshSession with your refresh token.');
      }
      if (e instanceof joseErrors.JWTClaimValidationFailed && e.reason === 'missing') {
        throw refused(`The access token has no "${e.claim}" claim; tokens must carry ${REQUIRED_CLAIMS.join(', ')}.`);
      }
      if (e instanceof joseErrors.JOSEError) {
        throw refused('The access token is invalid.');
      }
      throw e;
    }
    const role = payload.role as Role;
    if (typeof payload.sub !== 'string' || !ROLES.includes(role) || typeof payload.sid !== 'string' || !payload.sid) {
      throw refused('The access token is missing required claims.');
    }
    // A token that claims a long life is refused outright, signed or not: a leaked one would
    // otherwise outlive every revocation (those are remembered only this long).
    if (payload.exp! - payload.iat! > policy.maxLifetimeSeconds) {
      throw refused(`The access token claims a lifetime over the maximum of ${policy.maxLifetimeSeconds} seconds.`);
    }
    let ended: string | undefined;
    try {
      ended = await policy.revocations.revokedReason(payload.sid);
    } catch {
      // Fail closed: a session that cannot be checked is not taken to be live.
      throw new GraphQLError('Sessions cannot be checked right now. Retry in a moment.', {
        extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } },
      });
    }
    if (ended) throw sessionEnded(ended);
    return { id: payload.sub, role, sessionId: payload.sid };
  };
}

/** Reads "Bearer <token>"; undefined when there is no authorization at all. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthenticated('The Authorization header must read "Bearer <access token>".');
  return match[1];
}

/**
 * A refused token answered with HTTP 401 (Apollo Server takes the status from `extensions.http`),
 * whoever refuses it: a subgraph's 401 is what the router's data sources report as UNAUTHENTICATED,
 * where a 500 would become INTERNAL_SERVER_ERROR. Other errors are returned as they are.
 */
export function asUnauthorizedResponse(e: unknown): unknown {
  if (!(e instanceof GraphQLError) || e.extensions.code !== 'UNAUTHENTICATED') return e;
  return new GraphQLError(e.message, { extensions: { ...e.extensions, http: { status: 401 } } });
}

/** The viewer for a request: null when anonymous, an UNAUTHENTICATED error (HTTP 401) when the token is bad. */
export async function viewerFromAuthorization(
  verify: TokenVerifier,
  authorization: string | undefined,
): Promise<Viewer | null> {
  try {
    const token = bearerToken(authorization);
    return token ? await verify(token) : null;
  } catch (e) {
    throw asUnauthorizedResponse(e);
  }
}
