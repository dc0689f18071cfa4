/**
 * Login throttling under a burst, through the router: every attempt is counted before its password
 * is checked, so however many arrive at once, no more passwords are checked than the limit allows,
 * per account and per client address, and the address is the one the router trusts (TRUST_PROXY).
 * Argon2 work is read off the users service's own counter (UsersService.passwordVerifications).
 */
import { errorCode, graphql, type GraphQLResponse, LOG_IN, logIn } from '@campus/test-kit';
import { startTestStack, type TestStack } from '@campus/stack/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UsersService } from '@campus/users/service';

/** LOGIN_MAX_FAILURES; the per-address limit is four times it (src/config.ts). */
const LIMIT = 5;
const PER_ADDRESS = LIMIT * 4;
const BURST = 60;

const SIGN_UP = 'mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }';
const TARGET = { email: 'burst-target@x.test', password: 'the-right-password' };

/** The users service of the embedded stack, which the stack's registry spreads into its entry. */
const usersService = (stack: TestStack) => stack.services.users as unknown as Pick<UsersService, 'passwordVerifications' | 'prisma'>;

/** Runs `attempts` logIns at once; returns the responses and how many passwords were checked meanwhile. */
async function burst(stack: TestStack, attempts: { email: string; password: string; forwardedFor?: string }[]) {
  const users = usersService(stack);
  const before = users.passwordVerifications();
  const responses = await Promise.all(
    attempts.map(({ email, password, forwardedFor }) =>
      graphql(stack.routerUrl, LOG_IN, { variables: { input: { email, password } }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }),
    ),
  );
  return { responses, checked: users.passwordVerifications() - before };
}

const codes = (responses: GraphQLResponse[]) => {
  const count: Record<string, number> = {};
  for (const r of responses) count[errorCode(r) ?? 'ok'] = (count[errorCode(r) ?? 'ok'] ?? 0) + 1;
  return count;
};

const wrongPasswords = (n: number, forwardedFor?: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => ({ ...TARGET, password: `wrong-${i}`, ...(forwardedFor ? { forwardedFor: forwardedFor(i) } : {}) }));

/** `n` attempts, each at another (unknown) account: only the address can hold them back. */
const spray = (n: number, forwardedFor?: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => ({ email: `spray-${i}@x.test`, password: 'guess', ...(forwardedFor ? { forwardedFor: forwardedFor(i) } : {}) }));

const rotating = (i: number) => `203.0.113.${i + 1}`;

async function startWith(trustProxy: string | undefined): Promise<TestStack> {
  const stack = await startTestStack({ seedScale: 0, env: { LOGIN_MAX_FAILURES: String(LIMIT), ...(trustProxy ? { TRUST_PROXY: trustProxy } : {}) } });
  const up = await graphql(stack.routerUrl, SIGN_UP, { variables: { input: { ...TARGET, name: 'Burst Target' } } });
  if (!up.data?.signUp) throw new Error(`signUp failed: ${JSON.stringify(up.errors)}`);
  return stack;
}

describe('login throttling when the router trusts no proxy', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startWith(undefined);
  });
  afterAll(() => stack?.close());
  // Each test starts with no failures counted anywhere.
  beforeEach(async () => {
    await usersService(stack).prisma.loginThrottle.deleteMany();
  });

  it(`checks at most ${LIMIT} passwords when ${BURST} wrong logIns for one account arrive at once`, async () => {
    const { responses, checked } = await burst(stack, wrongPasswords(BURST));
    expect(checked).toBe(LIMIT);
    expect(codes(responses)).toEqual({ UNAUTHENTICATED: LIMIT, RATE_LIMITED: BURST - LIMIT });
    // Locked now, for the right password too, and without checking it.
    const { responses: [right], checked: afterLock } = await burst(stack, [TARGET]);
    expect(errorCode(right!)).toBe('RATE_LIMITED');
    expect(afterLock).toBe(0);
  });

  it('answers RATE_LIMITED with retryAfterSeconds, HTTP 429 and a matching Retry-After header', async () => {
    const { responses } = await burst(stack, wrongPasswords(LIMIT + 1));
    const refused = responses.find((r) => errorCode(r) === 'RATE_LIMITED')!;
    const seconds = refused.errors![0]!.extensions!.retryAfterSeconds as number;
    expect(seconds).toBeGreaterThan(0);
    expect(refused.errors![0]!.message).toMatch(/Try again in \d+ seconds/);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe(String(seconds));
    expect(refused.data ?? null).toBeNull();
    // An ordinary wrong password is no rate limit: no Retry-After.
    await usersService(stack).prisma.loginThrottle.deleteMany();
    const { responses: [wrong] } = await burst(stack, wrongPasswords(1));
    expect(errorCode(wrong!)).toBe('UNAUTHENTICATED');
    expect(wrong!.headers.get('retry-after')).toBeNull();
  });

  it('gives no fresh budget for a rotating X-Forwarded-For, neither per account nor per address', async () => {
    const oneAccount = await burst(stack, wrongPasswords(BURST, rotating));
    expect(oneAccount.checked).toBe(LIMIT);
    await usersService(stack).prisma.loginThrottle.deleteMany();
    // Every attempt at another account: only the per-address limit holds them, and all come from 127.0.0.1.
    const manyAccounts = await burst(stack, spray(BURST, rotating));
    expect(manyAccounts.checked).toBe(PER_ADDRESS);
    expect(codes(manyAccounts.responses)).toEqual({ UNAUTHENTICATED: PER_ADDRESS, RATE_LIMITED: BURST - PER_ADDRESS });
  });

  it('gives back the attempt of a right password but forgives no earlier failure', async () => {
    await burst(stack, wrongPasswords(LIMIT - 1));
    expect((await logIn(stack.routerUrl, TARGET.email, TARGET.password)).user.email).toBe(TARGET.email);
    // LIMIT - 1 failures still count: one more is the last the window allows.
    const { responses: [last] } = await burst(stack, wrongPasswords(1));
    expect(errorCode(last!)).toBe('UNAUTHENTICATED');
    const { responses: [locked] } = await burst(stack, [TARGET]);
    expect(errorCode(locked!)).toBe('RATE_LIMITED');
  });
});

describe('login throttling behind a trusted proxy (TRUST_PROXY=loopback)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startWith('loopback');
  });
  afterAll(() => stack?.close());
  beforeEach(async () => {
    await usersService(stack).prisma.loginThrottle.deleteMany();
  });

  it('counts each forwarded address on its own budget', async () => {
    const spread = await burst(stack, spray(BURST, rotating));
    expect(spread.checked).toBe(BURST);
    expect(codes(spread.responses)).toEqual({ UNAUTHENTICATED: BURST });
    await usersService(stack).prisma.loginThrottle.deleteMany();
    const oneAddress = await burst(stack, spray(BURST, () => '198.51.100.9'));
    expect(oneAddress.checked).toBe(PER_ADDRESS);
  });

  it(`still checks at most ${LIMIT} passwords for one account when every attempt comes from another address`, async () => {
    const { responses, checked } = await burst(stack, wrongPasswords(BURST, rotating));
    expect(checked).toBe(LIMIT);
    expect(codes(responses)).toEqual({ UNAUTHENTICATED: LIMIT, RATE_LIMITED: BURST - LIMIT });
  });
});
