/**
 * The router's formatError, for HTTP (Apollo Server) and graphql-ws (subscriptions/ws-server.ts)
 * alike: it puts back the codes Apollo Server loses or never sets, hides schema details in
 * production, then hands over to the kit's formatError (packages/kit/src/core/format-error.ts),
 * which decides what a client may see and at which level it is logged.
 *
 *   limit codes     Apollo Server wraps every validation error in a ValidationError whose code is
 *                   GRAPHQL_VALIDATION_FAILED; the router's own rules (edge/limits.ts) reported
 *                   OPERATION_TOO_DEEP and the like, which a client needs to see. The original
 *                   error keeps its code, so it is restored from there.
 *   APQ mismatch    Apollo Server answers a persisted-query hash that is not the query's sha256
 *                   with an uncoded error (HTTP 400), which would be masked as an internal error
 *                   in production and logged as a fault; it becomes PERSISTED_QUERY_HASH_MISMATCH.
 *   suggestions     "Did you mean ...?" in validation and input-coercion messages lists the
 *                   schema's field, type and enum names to anyone probing it. Production drops
 *                   them (HTTP also sets Apollo Server's hideSchemaDetailsFromClientErrors; the
 *                   WebSocket path validates on its own and relies on this).
 */
import type { Logger } from '@campus/kit/core';
import { formatErrorFor } from '@campus/kit/core';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { hashMismatch, PersistedQueryCode } from './trusted-documents.ts';

/** Codes Apollo Server gives every error of a stage, whatever the rule that reported it. */
const STAGE_CODES = new Set(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']);

/** Codes whose messages graphql-js writes, suggestions included. */
const SCHEMA_MESSAGE_CODES = new Set(['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']);

/** The messages of @apollo/server's requestPipeline.js for a persisted query whose hash is wrong. */
const APQ_MISMATCH_MESSAGE = 'provided sha does not match query';
const APQ_VERSION_MESSAGE = 'Unsupported persisted query version';

/** Same pattern as Apollo Server's ApolloServerPluginDisableSuggestions. */
const SUGGESTION = / ?Did you mean(.+?)\?$/;

export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

export function routerFormatError(production: boolean, logger: Logger): FormatError {
  const format = formatErrorFor(production, logger);
  return (formatted, error) => format(clientFacing(formatted, error, production), error);
}

function clientFacing(formatted: GraphQLFormattedError, error: unknown, production: boolean): GraphQLFormattedError {
  let result = formatted;
  const code = formatted.extensions?.code;
  const originalCode = originalErrorCode(error);
  if (typeof code === 'string' && STAGE_CODES.has(code) && originalCode && originalCode !== code) {
    result = { ...result, extensions: { ...result.extensions, code: originalCode } };
  } else if (error instanceof GraphQLError && error.extensions.code === undefined) {
    if (error.message === APQ_MISMATCH_MESSAGE) {
      const mismatch = hashMismatch();
      result = { ...result, message: mismatch.message, extensions: { ...result.extensions, code: PersistedQueryCode.HASH_MISMATCH } };
    } else if (error.message === APQ_VERSION_MESSAGE) {
      result = { ...result, message: 'Unsupported persisted query version: send extensions.persistedQuery.version 1.', extensions: { ...result.extensions, code: 'BAD_REQUEST' } };
    }
  }
  const finalCode = result.extensions?.code;
  if (production && typeof finalCode === 'string' && SCHEMA_MESSAGE_CODES.has(finalCode) && SUGGESTION.test(result.message)) {
    result = { ...result, message: result.message.replace(SUGGESTION, '') };
  }
  return result;
}

function originalErrorCode(error: unknown): string | undefined {
  if (!(error instanceof GraphQLError)) return undefined;
  const original = error.originalError;
  if (!(original instanceof GraphQLError)) return undefined;
  const code = original.extensions.code;
  return typeof code === 'string' ? code : undefined;
}
