/** The bounded labels of the subgraph series: statement kinds, error codes, and the metrics port setting. */
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseEnv } from '../src/core/config.ts';
import { errorCodeOf } from '../src/subgraph/graphql-metrics.ts';
import { loaderBatches } from '../src/subgraph/loaders.ts';
import { serviceConfig, serviceEnv } from '../src/subgraph/service-config.ts';
import { statementKind } from '../src/subgraph/statement-tap.ts';

describe('statementKind', () => {
  it('names a statement by its verb, past comments and whitespace, and nothing else', () => {
    expect(statementKind('SELECT "public"."Course"."id" FROM "public"."Course" WHERE 1=1')).toBe('select');
    expect(statementKind('\n  /* traceparent=00-abc */ insert INTO "OutboxEvent" VALUES ($1)')).toBe('insert');
    expect(statementKind('-- a note\nUPDATE "Payment" SET "status" = $1')).toBe('update');
    expect(statementKind('DELETE FROM "IdempotencyKey" WHERE "expiresAt" < now()')).toBe('delete');
    for (const other of ['BEGIN', 'COMMIT', 'WITH t AS (SELECT 1) SELECT * FROM t', 'CREATE TABLE x ()', '']) {
      expect(statementKind(other)).toBe('other');
    }
  });
});

describe('errorCodeOf', () => {
  it("counts an error under its extensions.code, and an uncoded or odd one as INTERNAL_SERVER_ERROR", () => {
    expect(errorCodeOf(new GraphQLError('gone', { extensions: { code: 'NOT_FOUND' } }))).toBe('NOT_FOUND');
    expect(errorCodeOf(new GraphQLError('boom'))).toBe('INTERNAL_SERVER_ERROR');
    expect(errorCodeOf(new Error('boom'))).toBe('INTERNAL_SERVER_ERROR');
    expect(errorCodeOf(new GraphQLError('free text', { extensions: { code: 'user 42 not found' } }))).toBe('INTERNAL_SERVER_ERROR');
  });
});

describe('loaderBatches', () => {
  it('hands a batch function back unchanged for a client no registry counts', () => {
    const batch = async (keys: readonly string[]) => keys.map((k) => k.length);
    expect(loaderBatches({})('anything', batch)).toBe(batch);
  });
});

describe('<SERVICE>_METRICS_PORT', () => {
  const schema = z.object(serviceEnv('DEMO', 4100));
  const base = { ROUTER_JWKS: 'http://127.0.0.1:4000/.well-known/service-jwks.json' };
  it('is absent by default (metrics on the service port), a port when set', () => {
    expect(serviceConfig('DEMO', parseEnv(schema, base)).metricsPort).toBeUndefined();
    expect(serviceConfig('DEMO', parseEnv(schema, { ...base, DEMO_METRICS_PORT: '9464' })).metricsPort).toBe(9464);
    expect(() => parseEnv(schema, { ...base, DEMO_METRICS_PORT: 'x' })).toThrow(/DEMO_METRICS_PORT/);
  });
});
