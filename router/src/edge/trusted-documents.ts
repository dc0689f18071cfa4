/**
 * Trusted documents: which operations the router runs at all (TRUSTED_DOCUMENTS).
 *
 *   off      any operation (the default); automatic persisted queries (APQ) work as Apollo Server
 *            implements them
 *   log      any operation; one that is not in the manifest is logged at warn, so a team can see
 *            what its clients really send before it turns enforcement on
 *   enforce  only the manifest's operations; anything else is refused with
 *            PERSISTED_QUERY_NOT_IN_LIST before it is parsed
 *
 * An operation is "in the manifest" when its text is a listed body, byte for byte or up to
 * whitespace, commas and comments (persisted-query-manifest.ts, canonicalHash). Clients may also
 * send only a listed operation's id (`extensions.persistedQuery.sha256Hash` without `query`): the
 * router answers it from the manifest, on HTTP through Apollo Server's APQ cache (persistedQueryCache
 * below) and on graphql-ws in resolveQuery.
 *
 * The check is an admission source check (edge/admission.ts), so HTTP and graphql-ws refuse the
 * same operations with the same code. An APQ registration carries its text and is refused like the
 * text itself, so in enforce mode Apollo Server's APQ cache only ever holds listed operations; a
 * request with an id alone therefore passes the check and is answered by Apollo Server from the
 * manifest or that cache, or with PERSISTED_QUERY_NOT_FOUND.
 */
import { readFileSync } from 'node:fs';
import type { PersistedQueryOptions } from '@apollo/server';
import type { Logger } from '@campus/kit/core';
import { GraphQLError } from 'graphql';
import type { EdgeSource } from './admission.ts';
import { canonicalHash, parseManifest, sha256, type PersistedQueryManifest } from './persisted-query-manifest.ts';

export type TrustedDocumentsMode = 'off' | 'log' | 'enforce';

export interface TrustedDocumentsConfig {
  mode: TrustedDocumentsMode;
  /** An Apollo persisted-query manifest (router/persisted-queries.json by default). */
  manifestPath: string;
}

export const PersistedQueryCode = {
  NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  HASH_MISMATCH: 'PERSISTED_QUERY_HASH_MISMATCH',
  NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
} as const;

type KeyValueCache = NonNullable<PersistedQueryOptions['cache']>;

/** What a graphql-ws subscribe message carries (graphql-ws insists on a string `query`, possibly empty). */
export interface SubscribePayloadLike {
  query?: string | null | undefined;
  extensions?: Record<string, unknown> | null | undefined;
}

export interface TrustedDocuments {
  readonly mode: TrustedDocumentsMode;
  /** The admission source check (edge/admission.ts). */
  check(source: EdgeSource): void;
  /**
   * Apollo Server's `persistedQueries` option: manifest ids first, then ordinary APQ
   * registrations kept in `fallback()` (Apollo Server's own cache). Undefined when off, so Apollo
   * Server keeps its default.
   */
  persistedQueries(fallback: () => KeyValueCache): PersistedQueryOptions | undefined;
  /**
   * The text a graphql-ws subscribe message stands for: its `query`, or the listed body of its
   * persisted-query id. A GraphQLError when the id is unknown or does not match the text.
   */
  resolveQuery(payload: SubscribePayloadLike): string | GraphQLError;
}

export function loadTrustedDocuments(config: TrustedDocumentsConfig, logger: Logger): TrustedDocuments {
  const manifest = config.mode === 'off' ? undefined : readManifest(config.manifestPath);
  const bodyById = new Map(manifest?.operations.map((op) => [op.id, op.body]));
  // Apollo's ids are the body's sha256, but a manifest may use ids of its own: text is matched
  // on the bodies' hashes, never on ids.
  const exact = new Set(manifest?.operations.map((op) => sha256(op.body)));
  const canonical = new Set(manifest?.operations.map((op) => canonicalHash(op.body)).filter((h) => h !== undefined));
  if (manifest) logger.info({ mode: config.mode, manifest: config.manifestPath, operations: manifest.operations.length }, 'trusted documents loaded');

  const listed = (source: Pick<EdgeSource, 'query' | 'queryHash'>) => {
    if (exact.has(source.queryHash) || bodyById.get(source.queryHash) === source.query) return true;
    const hash = canonicalHash(source.query);
    return hash !== undefined && canonical.has(hash);
  };

  return {
    mode: config.mode,
    check(source) {
      // '' is an id alone at the HTTP source stage, before Apollo Server resolves it (see above).
      if (config.mode === 'off' || source.query === '' || listed(source)) return;
      const report = {
        code: PersistedQueryCode.NOT_IN_LIST,
        queryHash: source.queryHash,
        operationName: operationNameOf(source.query),
        transport: source.transport,
        requestId: source.context.requestId,
      };
      if (config.mode === 'log') {
        // Not the text: a literal in it may be a password (README's curl sign-in is one).
        logger.warn(report, 'operation not in the trusted documents manifest (TRUSTED_DOCUMENTS=log: accepted)');
        return;
      }
      throw new GraphQLError('This operation is not in the router\'s trusted documents: only operations from the persisted-query manifest run here. Add it to the manifest (npm run build:persisted-queries) and deploy it with the client.', {
        extensions: { code: PersistedQueryCode.NOT_IN_LIST, http: { status: 400 } },
      });
    },
    persistedQueries(fallback) {
      if (!manifest) return undefined;
      return { cache: manifestFirstCache(bodyById, fallback) };
    },
    resolveQuery(payload) {
      const persisted = payload.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
      if (persisted === undefined || persisted === null) return payload.query ?? '';
      if (persisted.version !== 1 || typeof persisted.sha256Hash !== 'string') {
        return new GraphQLError('extensions.persistedQuery needs version 1 and a sha256Hash string.', { extensions: { code: 'BAD_REQUEST' } });
      }
      const id = persisted.sha256Hash;
      if (payload.query) {
        if (sha256(payload.query) !== id) return hashMismatch();
        return payload.query;
      }
      const body = bodyById.get(id);
      if (body === undefined) {
        return new GraphQLError('PersistedQueryNotFound: over WebSocket only ids from the trusted documents manifest resolve; send the query text.', {
          extensions: { code: PersistedQueryCode.NOT_FOUND },
        });
      }
      return body;
    },
  };
}

export const hashMismatch = () =>
  new GraphQLError('The persisted query hash (extensions.persistedQuery.sha256Hash) is not the sha256 of the query sent with it. Send the hex sha256 of the exact query text.', {
    extensions: { code: PersistedQueryCode.HASH_MISMATCH, http: { status: 400 } },
  });

function readManifest(path: string): PersistedQueryManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`TRUSTED_DOCUMENTS_MANIFEST: cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return parseManifest(text);
  } catch (e) {
    throw new Error(`TRUSTED_DOCUMENTS_MANIFEST: ${path} is not an Apollo persisted-query manifest: ${(e as Error).message}`);
  }
}

/**
 * Apollo Server wraps the `persistedQueries.cache` it is given in a prefixing cache, so keys arrive
 * as `apq:<sha256>` (APQ_CACHE_PREFIX in @apollo/server's requestPipeline.js); the fallback is
 * Apollo Server's own cache, which receives the same prefixed keys its default APQ setup would.
 * Listed operations are never written to the fallback: the manifest already holds them.
 */
function manifestFirstCache(bodyById: ReadonlyMap<string, string>, fallback: () => KeyValueCache): KeyValueCache {
  const APQ_PREFIX = 'apq:';
  const idOf = (key: string) => (key.startsWith(APQ_PREFIX) ? key.slice(APQ_PREFIX.length) : key);
  return {
    async get(key) {
      return bodyById.get(idOf(key)) ?? (await fallback().get(key));
    },
    async set(key, value, options) {
      if (bodyById.has(idOf(key))) return;
      await fallback().set(key, value, options);
    },
    async delete(key) {
      return fallback().delete(key);
    },
  };
}

/** The operation's name when the text starts with one: enough to find it in a client's code, cheap. */
function operationNameOf(query: string): string | undefined {
  return /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(query.slice(0, 512))?.[1];
}
