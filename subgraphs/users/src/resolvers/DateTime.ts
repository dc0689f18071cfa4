import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

/**
 * DateTime (schema.graphql): written as ISO-8601 in UTC with milliseconds. Resolvers hand it a
 * Date, or the ISO string a live update carried through pub/sub; both are written the same way.
 */
const toDate = (value: unknown): Date => {
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime: not an instant (expected an ISO-8601 string).', { extensions: { code: 'BAD_USER_INPUT' } });
  return date;
};

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => toDate(value).toISOString(),
  parseValue: toDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime: expected an ISO-8601 string.', { extensions: { code: 'BAD_USER_INPUT' } });
    return toDate(ast.value);
  },
});
