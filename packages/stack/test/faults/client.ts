/**
 * A client that behaves as a real one does while the system is failing: a call that gets no
 * answer (connection refused or reset, a timeout, a 5xx, a subgraph or service unavailable) is
 * sent again, unchanged (so a checkout keeps its idempotency key), until it gets an answer or its
 * deadline passes. An answer is data, or an error the caller caused and would get again
 * (docs/payments.md "Refusals": NOT_FOUND, BAD_USER_INPUT, FORBIDDEN, CONFLICT).
 */
import type { GraphQLResponse } from '@campus/test-kit';

/** Errors that answer the request: sending it again would get the same answer. */
const DEFINITIVE = new Set(['BAD_USER_INPUT', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']);

export interface Account {
  id: string;
  email: string;
  password: string;
  token: string;
}

export interface ClientStats {
  /** Requests sent, first tries and retries. */
  requests: number;
  /** Requests sent again after one got no answer, by what the failed one got. */
  retriesAfterFailure: Record<string, number>;
  /** Fresh sign-ins after a token stopped being accepted. */
  reLogins: number;
  /** Calls that got no answer before their deadline, by name. */
  unanswered: string[];
}

export type Answer<T = any> = GraphQLResponse<T> & { attempts: number };

const LOG_IN = 'mutation LogIn($input: LogInInput!) { logIn(input: $input) { accessToken } }';

export class RetryingClient {
  readonly stats: ClientStats = { requests: 0, retriesAfterFailure: {}, reLogins: 0, unanswered: [] };

  constructor(
    private readonly routerUrl: string,
    private readonly callDeadlineMs = 60_000,
    /** Aborted when the suite is over: calls still retrying give up at once. */
    private readonly signal?: AbortSignal,
  ) {}

  /** One POST with a timeout of its own, so a process killed mid-request cannot hang the call. */
  private async post(query: string, variables: Record<string, unknown>, token: string | undefined): Promise<GraphQLResponse> {
    this.stats.requests += 1;
    const res = await fetch(this.routerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let body: { data?: any; errors?: GraphQLResponse['errors'] };
    try {
      body = JSON.parse(text);
    } catch {
      // A proxy-style answer (or a process dying mid-response) is no GraphQL answer.
      body = { errors: [{ message: text.slice(0, 200), extensions: { code: `HTTP_${res.status}` } }] };
    }
    return { status: res.status, headers: res.headers, ...body };
  }

  /**
   * Sends `query` until it is answered. `account` (if any) is signed in again when its token is
   * refused, as an app does with its stored credentials; the same variables are sent every time.
   */
  async call<T = any>(what: string, query: string, variables: Record<string, unknown>, account?: Account): Promise<Answer<T> | undefined> {
    const deadline = Date.now() + this.callDeadlineMs;
    let attempts = 0;
    let wait = 100;
    for (;;) {
      attempts += 1;
      let failure: string;
      let retryAfterMs = 0;
      try {
        const r = await this.post(query, variables, account?.token);
        const code = r.errors?.[0]?.extensions?.code as string | undefined;
        if (r.data && !r.errors?.length) return { ...r, attempts };
        if (code && DEFINITIVE.has(code)) return { ...r, attempts };
        failure = code ?? `HTTP_${r.status}`;
        if (code === 'RATE_LIMITED') retryAfterMs = Number(r.errors?.[0]?.extensions?.retryAfterSeconds ?? 1) * 1000;
        if ((code === 'UNAUTHENTICATED' || r.status === 401) && account) await this.reLogIn(account, deadline);
      } catch (e) {
        failure = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name ?? 'ERROR';
      }
      if (Date.now() + wait > deadline || this.signal?.aborted) {
        this.stats.unanswered.push(`${what} (last: ${failure})`);
        return undefined;
      }
      this.stats.retriesAfterFailure[failure] = (this.stats.retriesAfterFailure[failure] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, Math.max(wait, retryAfterMs)));
      wait = Math.min(wait * 2, 1_000);
    }
  }

  private async reLogIn(account: Account, deadline: number): Promise<void> {
    while (Date.now() < deadline && !this.signal?.aborted) {
      try {
        const r = await this.post(LOG_IN, { input: { email: account.email, password: account.password } }, undefined);
        if (r.data?.logIn?.accessToken) {
          account.token = r.data.logIn.accessToken;
          this.stats.reLogins += 1;
          return;
        }
      } catch {
        // The router or users is down: try again shortly.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
