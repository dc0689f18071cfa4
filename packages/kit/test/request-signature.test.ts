/**
 * Signed requests between services (src/service-identity/): who signed, for whom, what, when and
 * once. Real Ed25519 keys and jose; ids are remembered in the in-memory store.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateServiceKeyPem, keySetFrom, publicJwks, signingKeysProblem } from '../src/identity/service-keys.ts';
import {
  createRequestSigner,
  SIGNATURE_WINDOW_SECONDS,
  verifyRequestSignature,
  type RequestVerifier,
  type SignedParts,
} from '../src/identity/request-signature.ts';
import { createMemorySeenRequestIds } from '../src/identity/seen-request-ids.ts';

const routerKey = generateServiceKeyPem();
const nextRouterKey = generateServiceKeyPem();
const paymentsKey = generateServiceKeyPem();
const router = createRequestSigner('router', [routerKey]);
const payments = createRequestSigner('payments', [paymentsKey]);

const parts: SignedParts = { method: 'POST', path: '/graphql', authorization: 'Bearer abc', clientIp: '203.0.113.9', body: '{"query":"{ me { id } }"}' };

/** A courses instance's view: it trusts the router's published keys and payments' own. */
function courses(routerPems = [routerKey]): RequestVerifier {
  return {
    audience: 'courses',
    issuers: new Map([
      ['router', keySetFrom(JSON.stringify(publicJwks(routerPems)))],
      ['payments', keySetFrom(JSON.stringify(publicJwks([paymentsKey])))],
    ]),
    seen: createMemorySeenRequestIds(),
  };
}

describe('request signatures', () => {
  it('accepts a request signed by a trusted service, for this service, naming who signed it', async () => {
    const check = await verifyRequestSignature(courses(), router.sign('courses', parts), parts);
    expect(check).toMatchObject({ ok: true, issuer: 'router' });
    expect(await verifyRequestSignature(courses(), payments.sign('courses', parts), parts)).toMatchObject({ ok: true, issuer: 'payments' });
  });

  it.each<[string, Partial<SignedParts>]>([
    ['body', { body: '{"query":"{ users { id } }"}' }],
    ['path', { path: '/graphql?x=1' }],
    ['method', { method: 'GET' }],
    ['authorization', { authorization: 'Bearer someone-else' }],
    ['missing authorization', { authorization: undefined }],
    ['client address', { clientIp: '198.51.100.1' }],
  ])('refuses a signature whose request was changed (%s)', async (_what, change) => {
    const header = router.sign('courses', parts);
    expect(await verifyRequestSignature(courses(), header, { ...parts, ...change })).toEqual({
      ok: false,
      reason: 'request signature does not match the request',
    });
  });

  it("refuses payments' key used to sign in the router's name: no service can sign as another", async () => {
    const impostor = createRequestSigner('router', [paymentsKey]);
    expect(await verifyRequestSignature(courses(), impostor.sign('courses', parts), parts)).toEqual({ ok: false, reason: 'not signed with a key of router' });
  });

  it('refuses a signature meant for another service', async () => {
    expect(await verifyRequestSignature(courses(), router.sign('users', parts), parts)).toEqual({ ok: false, reason: 'signed for another service' });
  });

  it('refuses a service it does not trust, an unsigned request and garbage', async () => {
    const stranger = createRequestSigner('reports', [generateServiceKeyPem()]);
    expect(await verifyRequestSignature(courses(), stranger.sign('courses', parts), parts)).toEqual({ ok: false, reason: 'signed by a service this one does not trust' });
    expect(await verifyRequestSignature(courses(), undefined, parts)).toEqual({ ok: false, reason: 'missing request signature' });
    expect(await verifyRequestSignature(courses(), 'garbage', parts)).toEqual({ ok: false, reason: 'malformed request signature' });
  });

  it('refuses a replay of the same signed request, and accepts the same request signed again', async () => {
    const verifier = courses();
    const header = router.sign('courses', parts);
    expect((await verifyRequestSignature(verifier, header, parts)).ok).toBe(true);
    expect(await verifyRequestSignature(verifier, header, parts)).toEqual({ ok: false, reason: 'replayed request (its id was seen before)' });
    expect((await verifyRequestSignature(verifier, router.sign('courses', parts), parts)).ok).toBe(true);
  });

  it('does not let a forged signature use up the id it names', async () => {
    const verifier = courses();
    const header = router.sign('courses', parts);
    const forged = `${header.split('.').slice(0, 2).join('.')}.${createRequestSigner('router', [paymentsKey]).sign('courses', parts).split('.')[2]}`;
    expect((await verifyRequestSignature(verifier, forged, parts)).ok).toBe(false);
    expect((await verifyRequestSignature(verifier, header, parts)).ok).toBe(true);
  });

  it(`refuses a signature older or further in the future than ${SIGNATURE_WINDOW_SECONDS} s`, async () => {
    const old = router.sign('courses', parts, Date.now() - (SIGNATURE_WINDOW_SECONDS + 5) * 1000);
    expect(await verifyRequestSignature(courses(), old, parts)).toEqual({ ok: false, reason: 'stale request signature' });
    const future = router.sign('courses', parts, Date.now() + (SIGNATURE_WINDOW_SECONDS + 5) * 1000);
    expect(await verifyRequestSignature(courses(), future, parts)).toEqual({ ok: false, reason: 'stale request signature' });
    // Within the window either way: clocks of different machines disagree a little.
    expect((await verifyRequestSignature(courses(), router.sign('courses', parts, Date.now() + 20_000), parts)).ok).toBe(true);
  });

  it('refuses a JWT of the right key that is not a request signature (wrong typ, long-lived)', async () => {
    const long = await new SignJWT({ htm: 'POST', htu: '/graphql' })
      .setProtectedHeader({ alg: 'EdDSA', kid: router.kid })
      .setIssuer('router')
      .setAudience('courses')
      .setJti('0123456789abcdef0123')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(createPrivateKey(routerKey));
    expect(await verifyRequestSignature(courses(), long, parts)).toEqual({ ok: false, reason: 'invalid request signature' });
  });

  it('accepts either key while two are published, so the signer can switch with no request refused', async () => {
    const verifier = courses([routerKey, nextRouterKey]);
    const before = createRequestSigner('router', [routerKey, nextRouterKey]);
    const after = createRequestSigner('router', [nextRouterKey, routerKey]);
    expect(before.jwks).toEqual(publicJwks([routerKey, nextRouterKey]));
    expect(before.kid).not.toBe(after.kid);
    expect((await verifyRequestSignature(verifier, before.sign('courses', parts), parts)).ok).toBe(true);
    expect((await verifyRequestSignature(verifier, after.sign('courses', parts), parts)).ok).toBe(true);
    // Signing with a key nobody published yet is what rotation must never do.
    expect((await verifyRequestSignature(courses(), after.sign('courses', parts), parts)).ok).toBe(false);
  });
});

describe('service keys', () => {
  it('accepts Ed25519 PKCS#8 PEM only', () => {
    expect(signingKeysProblem(generateServiceKeyPem() + generateServiceKeyPem())).toBeUndefined();
    expect(signingKeysProblem('nope')).toMatch(/PKCS#8 PEM/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(signingKeysProblem(ec)).toBe('key 1 is an ec key; service keys are Ed25519');
  });

  it('publishes public halves only, each with its thumbprint as kid', () => {
    const jwks = publicJwks([routerKey, nextRouterKey]);
    expect(jwks.keys).toHaveLength(2);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
    expect(jwks.keys[0]!.kid).toBe(router.kid);
  });
});
