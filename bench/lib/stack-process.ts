/**
 * Entry point of the edge benchmark's stack process (forked by campus-stack.ts): the embedded
 * default (packages/stack/src/stack.ts, as `npm start` runs it) on free ports, on PGlite in the
 * directory the parent gives, seeded. It answers the parent once over IPC with its addresses, the
 * composed supergraph (which the benchmarked router process loads) and the users service's JWKS URL.
 * Apart from the benchmark's clients so that neither measures the other's CPU.
 */
import { startStack } from '@campus/stack';
import { USERS_JWKS_PATH } from '@campus/kit/subgraph';

export interface StackReady {
  routerUrl: string;
  urls: Record<string, string>;
  supergraphPath: string;
  jwksUrl: string;
}

const env = { ...process.env };
const stack = await startStack({
  env,
  routerPort: 0,
  host: '127.0.0.1',
  dataDir: env.CAMPUS_DATA_DIR,
  logLevel: env.LOG_LEVEL ?? 'warn',
});
await stack.seedIfEmpty(Number(env.SEED_SCALE ?? 1));
const ready: StackReady = {
  routerUrl: stack.routerUrl,
  urls: stack.urls,
  supergraphPath: stack.supergraphPath,
  jwksUrl: `${stack.urls.users}${USERS_JWKS_PATH}`,
};
process.send!({ ready });

let closing = false;
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  await stack.close();
  process.exit(0);
}
process.once('SIGTERM', close);
// The benchmark ended (or died): nothing left to serve.
process.on('disconnect', close);
