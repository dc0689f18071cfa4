/**
 * graphql-shield, the same way in every subgraph: fail closed (any field without a rule is denied),
 * rules read only the context's viewer, and the federation entry points `_service` and `_entities`
 * are allowed explicitly — field rules still apply to whatever `_entities` returns, because shield
 * guards fields by type, not by the path that reached them.
 */
import type { GraphQLSchema } from 'graphql';
import { applyMiddleware, type IMiddlewareFunction } from 'graphql-middleware';
import { allow, deny, rule, shield, type IRule, type IRules } from 'graphql-shield';
import { forbidden, missingRecordIsNotFound, unauthenticated } from '../core/errors.ts';
import { checkArguments } from '../core/validation.ts';
import type { Role, Viewer } from '../identity/viewer.ts';

export { allow, and, chain, deny, or, rule } from 'graphql-shield';

export interface ViewerContext {
  viewer: Viewer | null;
}

export const isAuthenticated: IRule = rule({ cache: 'contextual' })(
  (_parent, _args, ctx: ViewerContext) => (ctx.viewer ? true : unauthenticated()),
);

export const hasRole = (...roles: Role[]): IRule =>
  rule(`hasRole:${roles.join(',')}`, { cache: 'contextual' })((_parent, _args, ctx: ViewerContext) => {
    if (!ctx.viewer) return unauthenticated();
    return roles.includes(ctx.viewer.role) ? true : forbidden(`This needs one of the roles ${roles.join(', ')}.`);
  });

export const isAdmin: IRule = hasRole('ADMIN');

/** The rules federation itself needs on every subgraph. */
export const federationRules: { Query: Record<'_service' | '_entities', typeof allow>; _Service: Record<'*', typeof allow> } = {
  Query: { _service: allow, _entities: allow },
  _Service: { '*': allow },
};

/**
 * Guards a subgraph schema, outermost first: its arguments are checked for control characters
 * (validation.ts), so no rule or resolver sees a NUL byte; a mutation that writes to a missing
 * record answers NOT_FOUND (errors.ts); then graphql-shield applies `rules`.
 */
export function applyShield(schema: GraphQLSchema, rules: IRules): GraphQLSchema {
  const mutation = schema.getMutationType();
  return applyMiddleware(
    schema,
    // Typed as returning promises, called as plain functions: a synchronous resolver stays synchronous.
    checkArguments as IMiddlewareFunction,
    ...(mutation ? [{ [mutation.name]: missingRecordIsNotFound as IMiddlewareFunction }] : []),
    shield(rules, {
      fallbackRule: deny,
      // Our resolvers throw coded GraphQLErrors (NOT_FOUND, CONFLICT ...) that clients must see as is.
      allowExternalErrors: true,
      fallbackError: () => forbidden('You are not allowed to see or do this.'),
    }),
  );
}

