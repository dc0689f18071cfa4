/**
 * Signed requests between Campus services, so each service knows exactly who is calling it
 * (docs/identity/service-identity.md). The caller signs each request with its own Ed25519 key; the
 * header is a compact JWS whose claims bind the parts a forger would want to change:
 *
 *   iss  the signing service ("router", "payments")        aud  the service it is meant for
 *   jti  a fresh random id, refused when seen again         iat/exp  issued now, valid 60 s
 *   htm  HTTP method          htu  path and query           bh   SHA-256 of the raw body
 *   ath  SHA-256 of the Authorization header (absent: none) cip  the client address forwarded
 *   tp   the W3C traceparent header sent (absent: none), so a trace cannot be re-parented
 *        on the way; requests signed before the claim existed carried no traceparent either
 *
 * Signing is synchronous (node:crypto), not jose's async API, because graphql-ws constructs the
 * router's upstream WebSocket itself, synchronously, on every reconnect
 * (router/src/subscriptions/signed-websocket.ts). Verifying uses jose, so the header is a
 * standard JWS any JOSE library can check.
 */
import { createHash, randomUUID, sign as edSign } from 'node:crypto';
import { errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { loadServiceKey, SERVICE_SIGNATURE_ALG } from './service-keys.ts';
import type { SeenRequestIds } from './seen-request-ids.ts';

/** The issuer name the router signs its subgraph requests with; every other caller names itself. */
export const ROUTER_ISSUER = 'router';

/**
 * How long a signature is valid, and how far the signer's clock may be from the verifier's:
 * a request is accepted while |now - iat| <= this. Its id is remembered as long.
 */
export const SIGNATURE_WINDOW_SECONDS = 60;
/** The JWS `typ`: a request signature is never mistaken for an access token (those are JWTs too). */
export const REQUEST_SIGNATURE_TYP = 'campus-request+jwt';

export interface SignedParts {
  method: string;
  /** Path and query string, e.g. "/graphql". */
  path: string;
  authorization?: string | undefined;
  clientIp?: string | undefined;
  /** The raw body exactly as sent ("" for a WebSocket upgrade). */
  body: string;
  /** The `traceparent` header sent with it (core/tracing.ts), absent without one. */
  traceparent?: string | undefined;
}

interface RequestClaims extends JWTPayload {
  htm: string;
  htu: string;
  bh: string;
  ath?: string;
  cip?: string;
  tp?: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface RequestSigner {
  /** Who signs: the `iss` of every signature. */
  readonly issuer: string;
  /** The key that signs now (the first of *_SIGNING_KEYS). */
  readonly kid: string;
  /** Every configured key's public half, the signing one first: what the signer publishes. */
  readonly jwks: JSONWebKeySet;
  /** The signature header for one request to `audience`; every call has a new id. */
  sign(audience: string, parts: SignedParts, now?: number): string;
}

export function createRequestSigner(issuer: string, pems: string[]): RequestSigner {
  const keys = pems.map(loadServiceKey);
  const active = keys[0];
  if (!active) throw new Error(`${issuer}: no signing key configured`);
  // The same for every signature of this signer: encoded once.
  const header = b64json({ alg: SERVICE_SIGNATURE_ALG, kid: active.kid, typ: REQUEST_SIGNATURE_TYP });
  // The fetches of one request carry the same token, one after another: its hash is kept for the next.
  let lastAuthorization = '';
  let lastAuthorizationHash = '';
  const authorizationHash = (authorization: string) => {
    if (authorization !== lastAuthorization) {
      lastAuthorizationHash = sha256(authorization);
      lastAuthorization = authorization;
    }
    return lastAuthorizationHash;
  };
  return {
    issuer,
    kid: active.kid,
    jwks: { keys: keys.map((k) => k.publicJwk) },
    sign(audience, parts, now = Date.now()) {
      const iat = Math.floor(now / 1000);
      const claims: RequestClaims = {
        iss: issuer,
        aud: audience,
        jti: randomUUID(),
        iat,
        exp: iat + SIGNATURE_WINDOW_SECONDS,
        htm: parts.method.toUpperCase(),
        htu: parts.path,
        bh: sha256(parts.body),
        ...(parts.authorization ? { ath: authorizationHash(parts.authorization) } : {}),
        ...(parts.clientIp ? { cip: parts.clientIp } : {}),
        ...(parts.traceparent ? { tp: parts.traceparent } : {}),
      };
      const input = `${header}.${b64json(claims)}`;
      return `${input}.${edSign(null, Buffer.from(input), active.privateKey).toString('base64url')}`;
    },
  };
}

export interface RequestVerifier {
  /** This service's name: signatures meant for another service are refused. */
  audience: string;
  /** The public keys of each service trusted to call this one, by issuer name. */
  issuers: ReadonlyMap<string, JWTVerifyGetKey>;
  seen: SeenRequestIds;
}

export type RequestCheck =
  | { ok: true; issuer: string; id: string }
  /** `keysUnavailable`: the caller's public keys could not be fetched (our fault, not the caller's). */
  | { ok: false; reason: string; keysUnavailable?: boolean };

const refuse = (reason: string): RequestCheck => ({ ok: false, reason });

function issuerOf(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    const iss = (payload as { iss?: unknown } | null)?.iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

export async function verifyRequestSignature(
  verifier: RequestVerifier,
  header: string | undefined,
  parts: SignedParts,
  now = Date.now(),
): Promise<RequestCheck> {
  if (!header) return refuse('missing request signature');
  const issuer = issuerOf(header);
  if (issuer === undefined) return refuse('malformed request signature');
  const keys = verifier.issuers.get(issuer);
  if (!keys) return refuse('signed by a service this one does not trust');

  let claims: RequestClaims;
  try {
    ({ payload: claims } = await jwtVerify<RequestClaims>(header, keys, {
      algorithms: [SERVICE_SIGNATURE_ALG],
      typ: REQUEST_SIGNATURE_TYP,
      issuer,
      audience: verifier.audience,
      requiredClaims: ['jti', 'iat', 'exp'],
      // The window below is the rule; this only keeps jose's own `exp` check from being stricter.
      clockTolerance: SIGNATURE_WINDOW_SECONDS,
      currentDate: new Date(now),
    }));
  } catch (e) {
    if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || (e instanceof Error && !(e instanceof errors.JOSEError))) {
      return { ok: false, reason: `could not load the public keys of ${issuer}`, keysUnavailable: true };
    }
    if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud') return refuse('signed for another service');
    if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWSSignatureVerificationFailed) return refuse(`not signed with a key of ${issuer}`);
    return refuse('invalid request signature');
  }

  const iat = claims.iat!;
  const nowSeconds = now / 1000;
  if (Math.abs(nowSeconds - iat) > SIGNATURE_WINDOW_SECONDS || claims.exp! - iat > SIGNATURE_WINDOW_SECONDS) return refuse('stale request signature');
  const bound =
    claims.htm === parts.method.toUpperCase() &&
    claims.htu === parts.path &&
    claims.bh === sha256(parts.body) &&
    claims.ath === (parts.authorization ? sha256(parts.authorization) : undefined) &&
    claims.cip === (parts.clientIp || undefined) &&
    // Absent in both is fine: a caller that does not trace (or signed before `tp` existed).
    claims.tp === (parts.traceparent || undefined);
  if (!bound) return refuse('request signature does not match the request');
  const id = claims.jti!;
  if (!/^[\w-]{16,128}$/.test(id)) return refuse('malformed request id');
  // Last, so forged or mismatched signatures never fill the store. Remembered while the
  // signature could still pass the window check above.
  const ttlMs = Math.ceil((iat + SIGNATURE_WINDOW_SECONDS - nowSeconds) * 1000) + 1_000;
  if (!(await verifier.seen.firstSight(`${issuer}:${id}`, ttlMs))) return refuse('replayed request (its id was seen before)');
  return { ok: true, issuer, id };
}
