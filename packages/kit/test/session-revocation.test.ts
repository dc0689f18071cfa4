/**
 * What every token verifier enforces (viewer.ts + session-revocation.ts), with real Ed25519 keys and
 * real JWTs, no I/O: the required claims, the maximum lifetime, and ended sessions; and the
 * in-process revocation store the embedded default shares between all services.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  createMemorySessionRevocations,
  createSessionWatch,
  localTokenVerifier,
  REQUIRED_CLAIMS,
  type SessionRevocations,
  type TokenVerifier,
} from '../src/identity/index.ts';

const MAX_LIFETIME = 900;

describe('access token verification', () => {
  let privateKey: CryptoKey;
  let jwk: JWK;
  let revocations: SessionRevocations;
  let verify: TokenVerifier;

  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    privateKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' };
    revocations = createMemorySessionRevocations({ ttlSeconds: MAX_LIFETIME + 60 });
    verify = localTokenVerifier({ keys: [jwk] }, { revocations, maxLifetimeSeconds: MAX_LIFETIME });
  });

  const now = () => Math.floor(Date.now() / 1000);
  /** A token as the users service signs one; `omit` drops claims, `claims` overrides them. */
  const token = (claims: JWTPayload = {}, omit: string[] = []) => {
    const payload: JWTPayload = {
      iss: ACCESS_TOKEN_ISSUER,
      aud: ACCESS_TOKEN_AUDIENCE,
      sub: randomUUID(),
      sid: randomUUID(),
      role: 'STUDENT',
      iat: now(),
      exp: now() + 600,
      ...claims,
    };
    for (const claim of omit) delete payload[claim];
    return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid: 'k1' }).sign(privateKey);
  };
  const refusal = async (t: Promise<string> | string) => {
    const e = await verify(await t).then(
      () => undefined,
      (err: unknown) => err as { message: string; extensions: Record<string, unknown> },
    );
    if (!e) throw new Error('the token was accepted');
    return e;
  };

  it('accepts a token with every required claim and a lifetime within the maximum', async () => {
    const sid = randomUUID();
    await expect(verify(await token({ sid, role: 'ADMIN' }))).resolves.toMatchObject({ role: 'ADMIN', sessionId: sid });
  });

  it.each(REQUIRED_CLAIMS)('refuses a token without "%s", naming the claim', async (claim) => {
    const e = await refusal(token({}, [claim]));
    expect(e.extensions.code).toBe('UNAUTHENTICATED');
    expect(e.message).toContain(`"${claim}"`);
  });

  it('refuses a token whose lifetime (exp - iat) is over the maximum, even unexpired and correctly signed', async () => {
    const e = await refusal(token({ iat: now() - 10, exp: now() - 10 + MAX_LIFETIME + 1 }));
    expect(e.extensions.code).toBe('UNAUTHENTICATED');
    expect(e.message).toMatch(/lifetime over the maximum of 900 seconds/);
    // Exactly the maximum is fine.
    await expect(verify(await token({ iat: now(), exp: now() + MAX_LIFETIME }))).resolves.toBeTruthy();
  });

  it('refuses a token issued in the future', async () => {
    expect((await refusal(token({ iat: now() + 3600, exp: now() + 3700 }))).extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an expired token, asking for a refresh', async () => {
    expect((await refusal(token({ iat: now() - 120, exp: now() - 60 }))).message).toMatch(/expired.*refreshSession/);
  });

  it('refuses a token of an ended session from the moment it is recorded, saying why', async () => {
    const sid = randomUUID();
    const t = await token({ sid });
    await expect(verify(t)).resolves.toBeTruthy();
    await revocations.revoke([sid], 'ROLE_CHANGED');
    const e = await refusal(t);
    expect(e.extensions).toMatchObject({ code: 'UNAUTHENTICATED', sessionEnded: 'ROLE_CHANGED' });
    expect(e.message).toMatch(/role changed.*Log in again/);
    // Other sessions of the same user are untouched.
    await expect(verify(await token())).resolves.toBeTruthy();
  });

  it('refuses (503, SERVICE_UNAVAILABLE) rather than accepts when the store cannot answer', async () => {
    const broken: SessionRevocations = { ...revocations, revokedReason: () => Promise.reject(new Error('redis down')) };
    const strict = localTokenVerifier({ keys: [jwk] }, { revocations: broken, maxLifetimeSeconds: MAX_LIFETIME });
    await expect(strict(await token())).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } } });
  });
});

describe('the in-process revocation store', () => {
  afterEach(() => vi.useRealTimers());

  it('forgets a revocation once no token of the session can still be valid', async () => {
    vi.useFakeTimers();
    const store = createMemorySessionRevocations({ ttlSeconds: 60 });
    await store.revoke(['s1'], 'LOGGED_OUT');
    vi.advanceTimersByTime(59_000);
    expect(await store.revokedReason('s1')).toBe('LOGGED_OUT');
    vi.advanceTimersByTime(1_000);
    expect(await store.revokedReason('s1')).toBeUndefined();
  });

  it('tells watchers of a session once when it ends, and nobody else', async () => {
    const store = createMemorySessionRevocations({ ttlSeconds: 60 });
    const watch = createSessionWatch(store);
    const ended: string[] = [];
    watch.watch('a', (reason) => ended.push(`a:${reason}`));
    watch.watch('a', (reason) => ended.push(`a2:${reason}`));
    const stop = watch.watch('b', (reason) => ended.push(`b:${reason}`));
    stop();
    await store.revoke(['a', 'b'], 'REVOKED_BY_ADMIN');
    await store.revoke(['a'], 'LOGGED_OUT');
    expect(ended).toEqual(['a:REVOKED_BY_ADMIN', 'a2:REVOKED_BY_ADMIN']);
    watch.close();
  });

  it('finds a session ended before it was watched on the periodic re-check', async () => {
    vi.useFakeTimers();
    const store = createMemorySessionRevocations({ ttlSeconds: 60 });
    await store.revoke(['late'], 'PASSWORD_CHANGED');
    const watch = createSessionWatch(store, { recheckMs: 1_000 });
    const ended = new Promise<string>((resolve) => watch.watch('late', resolve));
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(ended).resolves.toBe('PASSWORD_CHANGED');
    watch.close();
  });
});
