import { describe, expect, it } from 'vitest';
import { signRouterRequest, verifyRouterSignature, type SignedParts } from '../src/router-signature.ts';

const secret = 's'.repeat(40);
const parts: SignedParts = { method: 'POST', path: '/graphql', authorization: 'Bearer abc', clientIp: '10.0.0.1', body: '{"query":"{ me { id } }"}' };

describe('router signatures', () => {
  it('accepts a request signed with the shared secret', () => {
    expect(verifyRouterSignature(secret, signRouterRequest(secret, parts), parts)).toEqual({ ok: true });
  });

  it.each([
    ['body', { body: '{"query":"{ users { totalCount } }"}' }],
    ['authorization', { authorization: 'Bearer someone-else' }],
    ['client address', { clientIp: '10.0.0.2' }],
    ['path', { path: '/graphql?x=1' }],
    ['method', { method: 'GET' }],
  ])('refuses a request whose %s was changed after signing', (_what, change) => {
    const header = signRouterRequest(secret, parts);
    expect(verifyRouterSignature(secret, header, { ...parts, ...change })).toEqual({ ok: false, reason: 'invalid router signature' });
  });

  it('refuses a signature made with another secret', () => {
    expect(verifyRouterSignature(secret, signRouterRequest('o'.repeat(40), parts), parts).ok).toBe(false);
  });

  it('refuses a stale signature so captured requests cannot be replayed later', () => {
    const header = signRouterRequest(secret, parts, Date.now() - 120_000);
    expect(verifyRouterSignature(secret, header, parts)).toEqual({ ok: false, reason: 'stale router signature' });
  });

  it('refuses missing and malformed headers', () => {
    expect(verifyRouterSignature(secret, undefined, parts)).toEqual({ ok: false, reason: 'missing router signature' });
    expect(verifyRouterSignature(secret, 'garbage', parts)).toEqual({ ok: false, reason: 'malformed router signature' });
  });
});
