/**
 * The router's signature covers the traceparent it sends (claim `tp`,
 * src/identity/request-signature.ts): a subgraph continues only the trace the router signed.
 * Absent in both stays valid, so callers that do not trace, and signatures made before the claim
 * existed, pass as before.
 */
import { describe, expect, it } from 'vitest';
import { generateServiceKeyPem, keySetFrom, publicJwks } from '../src/identity/service-keys.ts';
import { createRequestSigner, verifyRequestSignature, type RequestVerifier, type SignedParts } from '../src/identity/request-signature.ts';
import { createMemorySeenRequestIds } from '../src/identity/seen-request-ids.ts';

const key = generateServiceKeyPem();
const router = createRequestSigner('router', [key]);
const verifier = (): RequestVerifier => ({
  audience: 'courses',
  issuers: new Map([['router', keySetFrom(JSON.stringify(publicJwks([key])))]]),
  seen: createMemorySeenRequestIds(),
});

const base: SignedParts = { method: 'POST', path: '/graphql', body: '{"query":"{ __typename }"}' };
const signed = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const other = '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01';

const claimsOf = (header: string) => JSON.parse(Buffer.from(header.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('the traceparent under the request signature', () => {
  it('signs the traceparent as `tp`, and only when there is one', () => {
    expect(claimsOf(router.sign('courses', { ...base, traceparent: signed })).tp).toBe(signed);
    expect(claimsOf(router.sign('courses', base))).not.toHaveProperty('tp');
  });

  it('accepts the traceparent that was signed, and none when none was', async () => {
    expect(await verifyRequestSignature(verifier(), router.sign('courses', { ...base, traceparent: signed }), { ...base, traceparent: signed })).toMatchObject({ ok: true });
    expect(await verifyRequestSignature(verifier(), router.sign('courses', base), base)).toMatchObject({ ok: true });
  });

  it.each<[string, string | undefined, string | undefined]>([
    ['changed after signing', signed, other],
    ['removed after signing', signed, undefined],
    ['added to a signature without one', undefined, other],
  ])('refuses a traceparent %s', async (_what, atSigning, sent) => {
    const header = router.sign('courses', { ...base, traceparent: atSigning });
    expect(await verifyRequestSignature(verifier(), header, { ...base, traceparent: sent })).toEqual({
      ok: false,
      reason: 'request signature does not match the request',
    });
  });
});
