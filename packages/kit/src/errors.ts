/**
 * The error vocabulary every client sees (ARCHITECTURE.md section 8). Each error carries
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
