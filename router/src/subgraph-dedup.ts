/**
 * Merging of identical subgraph fetches in flight (SUBGRAPH_DEDUP, docs/edge/subgraph-fetches.md,
 * "Identical fetches in flight"). When a query fetch is about to go to a subgraph while an
 * identical one is already on its way, the second waits for the first's answer instead of sending
 * its own: a burst of clients asking for the same page costs the subgraph one request.
 *
 * Identical means the same subgraph (name and URL), the same body on the wire (operation text,
 * variables, operation name: signed-data-source.ts builds it deterministically) and the same
 * caller authorization as forwarded, so one viewer never receives what was fetched with another's
 * credentials; anonymous callers share one key. Only queries are merged (signed-data-source.ts
 * asks isQueryOperation in subgraph-resilience.ts): a mutation sent once for two clients would
 * run once.
 *
 * An entry lives exactly as long as its fetch: it is removed when the fetch settles, success or
 * failure, so this is no cache. A failure reaches every waiter as the same error.
 *
 * Waiters share the answer, never the parsed object: executeQueryPlan (@apollo/gateway) rewrites
 * and merges what a fetch returns into its own result in place. The data source shares the
 * subgraph's response text and each waiter parses it for itself: 1.7 to 3 times cheaper than a
 * structuredClone of the parsed answer (docs/edge/subgraph-fetches.md).
 */
import type { SubgraphFetchObserver } from './subgraph-resilience.ts';

export interface FetchIdentity {
  subgraph: string;
  url: string;
  /** The client's Authorization header as forwarded; absent or empty for an anonymous caller. */
  authorization: string | undefined;
  /** Headers the gateway adds to this fetch (e.g. apollo-federation-include-trace): they change the answer. */
  headers: Iterable<[string, string]> | undefined;
  /** The exact body sent. */
  body: string;
}

export interface SubgraphDedup<T> {
  /**
   * The fetch in flight identical to `fetch` when there is one (`joined`: nothing is sent);
   * otherwise `send()`, in flight under `fetch` until it settles.
   */
  join(fetch: FetchIdentity, send: () => Promise<T>): { answer: Promise<T>; joined: boolean };
}

interface InFlight<T> {
  body: string;
  answer: Promise<T>;
}

/** One per router process (gateway.ts), shared by the data sources of every subgraph and by HTTP and graphql-ws alike. */
export function createSubgraphDedup<T>(observer?: Pick<SubgraphFetchObserver, 'deduplicated'>): SubgraphDedup<T> {
  // By everything but the body, and the body's length; then the bodies themselves compared. A
  // Map keyed on the body would hash all of it for every fetch (about a fifth of the cost of the
  // JSON.stringify that made it), merged or not. Among one caller's fetches in flight, bodies of
  // equal length are mostly the identical ones, and comparing two strings is a memory compare
  // that stops at the first difference.
  const inFlight = new Map<string, InFlight<T>[]>();
  return {
    join(fetch, send) {
      const bucket = bucketOf(fetch);
      const entries = inFlight.get(bucket);
      const pending = entries?.find((e) => e.body === fetch.body);
      if (pending) {
        observer?.deduplicated?.(fetch.subgraph);
        return { answer: pending.answer, joined: true };
      }
      const entry: InFlight<T> = { body: fetch.body, answer: undefined as unknown as Promise<T> };
      // Removed before any waiter resumes: a fetch asked for after this one settled is sent anew.
      entry.answer = send().finally(() => {
        const list = inFlight.get(bucket)!;
        list.splice(list.indexOf(entry), 1);
        if (!list.length) inFlight.delete(bucket);
      });
      if (entries) entries.push(entry);
      else inFlight.set(bucket, [entry]);
      return { answer: entry.answer, joined: false };
    },
  };
}

/**
 * All of a fetch's identity but its body, and the body's length. Header values and the
 * subgraph's name and URL hold no line break, so the lines cannot run into each other.
 */
function bucketOf({ subgraph, url, authorization, headers, body }: FetchIdentity): string {
  let extra = '';
  if (headers) for (const [name, value] of headers) extra += `${name.toLowerCase()}: ${value}\n`;
  // Prefixed, so that no Authorization value can equal the anonymous line.
  const caller = authorization ? `authorization ${authorization}` : 'no authorization';
  return `${subgraph}\n${url}\n${caller}\n${extra}${body.length}`;
}
