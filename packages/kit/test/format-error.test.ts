/**
 * The level each error is logged at by the kit's formatError (packages/kit/src/core/format-error.ts):
 * a client's mistake at info without a stack, a planner refusal at warn without one, a fault at
 * error with its stack, and in production the client sees only that a fault happened.
 */
import { GraphQLError } from 'graphql';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { formatErrorFor } from '../src/core/format-error.ts';

function capture(production = true) {
  const lines: { level: number; msg: string; code?: string; err?: { stack?: string } }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { format: formatErrorFor(production, logger), lines };
}

const formatted = (error: GraphQLError) => error.toJSON();

describe('formatErrorFor: log levels', () => {
  it('logs a coded client error at info, without a stack', () => {
    const { format, lines } = capture();
    const error = new GraphQLError('Cannot query field "nope" on type "Query".', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(format(formatted(error), error).extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'client error', code: 'GRAPHQL_VALIDATION_FAILED' })]);
    expect(lines[0]!.err).toBeUndefined();
  });

  it('answers a planner refusal (QUERY_PLANNING_FAILED) as it is and logs it at warn, without a stack', () => {
    const { format, lines } = capture();
    const error = new GraphQLError('The operation could not be planned: something the planner cannot do', { extensions: { code: 'QUERY_PLANNING_FAILED' } });
    expect(format(formatted(error), error)).toMatchObject({ message: error.message, extensions: { code: 'QUERY_PLANNING_FAILED' } });
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: 'client error', code: 'QUERY_PLANNING_FAILED' })]);
    expect(lines[0]!.err).toBeUndefined();
  });

  it('logs anything else at error with its stack, and hides it from the client in production', () => {
    const { format, lines } = capture();
    const error = new GraphQLError('relation "Course" does not exist', { originalError: new Error('relation "Course" does not exist') });
    expect(format(formatted(error), error)).toMatchObject({ extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(format(formatted(error), error).message).not.toContain('Course');
    expect(lines[0]).toMatchObject({ level: 50, msg: 'unexpected error' });
    expect(lines[0]!.err?.stack).toMatch(/\n\s+at /);
  });
});
