/**
 * The error vocabulary every client sees (docs/edge/http-errors.md). Each error carries
 * `extensions.code`; messages say what to do next.
 */
import { GraphQLError } from 'graphql';

export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const error = (code: ErrorCode, message: string, extra: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code, ...extra } });

export const unauthenticated = (message = 'Sign in first: send a valid access token as "Authorization: Bearer <token>".') =>
  error(ErrorCode.UNAUTHENTICATED, message);

export const forbidden = (message = 'You are not allowed to do this.') => error(ErrorCode.FORBIDDEN, message);

export const notFound = (what: string, id?: string) =>
  error(ErrorCode.NOT_FOUND, id ? `${what} ${id} was not found.` : `${what} was not found.`);

/** `field` is the input path a client can highlight, e.g. "email" or "input.price.amount". */
export const badUserInput = (field: string, message: string) =>
  error(ErrorCode.BAD_USER_INPUT, message, { field });

export const conflict = (message: string, extra: Record<string, unknown> = {}) =>
  error(ErrorCode.CONFLICT, message, extra);

export const rateLimited = (retryAfterSeconds: number, message?: string) =>
  error(
    ErrorCode.RATE_LIMITED,
    message ?? `Too many attempts. Try again in ${retryAfterSeconds} seconds.`,
    { retryAfterSeconds },
  );

export const isGraphQLErrorWithCode = (e: unknown): e is GraphQLError =>
  e instanceof GraphQLError && typeof e.extensions?.code === 'string';

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/** Prisma's "required record not found" (P2025): an update or delete of a row that is not there. */
export const isMissingRecord = (e: unknown): e is Error & { meta?: { modelName?: string } } =>
  e instanceof Error && (e as { code?: unknown }).code === 'P2025';

/**
 * graphql-middleware for every mutation (applyShield in shield.ts): a write to a record that is
 * gone, whether it never existed or was deleted between a check and the write, is NOT_FOUND. Each
 * service still checks what it can first and says which record; this is the net under those checks,
 * so no mutation answers a missing record with INTERNAL_SERVER_ERROR.
 */
export function missingRecordIsNotFound<P, A, C, I>(resolve: (parent: P, args: A, ctx: C, info: I) => unknown, parent: P, args: A, ctx: C, info: I): unknown {
  const translate = (e: unknown) => (isMissingRecord(e) ? notFound(e.meta?.modelName ?? 'The record') : e);
  // graphql-shield, inside this, hands a resolver's error back as the field's value (graphql-js
  // raises an Error value as the field's error), so values are translated as well as throws.
  try {
    const result = resolve(parent, args, ctx, info);
    if (!isPromiseLike(result)) return translate(result);
    return Promise.resolve(result).then(translate, (e: unknown) => {
      throw translate(e);
    });
  } catch (e) {
    throw translate(e);
  }
}
