import { getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { addressKey, countStrictFields } from '../src/edge/rate-limits.ts';
import { parseTrustProxy, trustProxyProblem } from '../src/edge/trust-proxy.ts';

const STRICT = new Set(['signUp', 'logIn', 'checkout']);
const strictIn = (query: string) => {
  const document = parse(query);
  return countStrictFields(getOperationAST(document)!, document, STRICT);
};

describe('strict fields of an operation', () => {
  it('counts every aliased selection of a strict root field', () => {
    const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: signUp(input: $i) { user { id } }`).join(' ');
    expect(strictIn(`mutation($i: SignUpInput!) { ${aliases} }`)).toBe(50);
  });

  it('counts through inline fragments and named fragments, each fragment once', () => {
    const query = /* GraphQL */ `
      mutation { ... on Mutation { logIn(input: $a) { user { id } } } ...Pay ...Pay updateProfile(input: $b) { user { id } } }
      fragment Pay on Mutation { checkout(input: $c) { payment { id } } x: checkout(input: $d) { payment { id } } }
    `;
    expect(strictIn(query)).toBe(3);
  });

  it('ignores queries and nested fields of the same name', () => {
    expect(strictIn('{ logIn }')).toBe(0);
    expect(strictIn('mutation { updateProfile(input: $i) { logIn } }')).toBe(0);
  });
});

describe('the bucket of a client address', () => {
  it('is the IPv4 address, also when a dual-stack socket reports it IPv4-mapped', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('is the /64 of an IPv6 address, so one subscriber cannot rotate through its 2^64 addresses', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('is one shared bucket when the address is unknown', () => {
    expect(addressKey(undefined)).toBe('unknown');
  });
});

describe('TRUST_PROXY', () => {
  it('trusts nothing by default', () => {
    expect(parseTrustProxy(undefined)).toBe(false);
    expect(loadConfig({}).trustProxy).toBe(false);
  });

  it("accepts Express's trust-proxy syntax: names, addresses, CIDR lists and hop counts", () => {
    expect(parseTrustProxy('loopback')).toEqual(['loopback']);
    expect(parseTrustProxy('loopback, 10.0.0.0/8, fd00::/8')).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('true')).toBe(true);
    for (const ok of ['loopback', '10.0.0.0/8,192.168.1.1', '10.0.0.0/255.0.0.0', '1', 'false']) expect(trustProxyProblem(ok)).toBeUndefined();
  });

  it('refuses a value Express would misread, naming it', () => {
    expect(trustProxyProblem('10.0.0.0/33')).toContain('10.0.0.0/33');
    expect(() => loadConfig({ TRUST_PROXY: 'my-load-balancer' })).toThrow(/TRUST_PROXY.*my-load-balancer/);
  });
});
