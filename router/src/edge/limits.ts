/**
 * Operation limits: what bounds the work of parsing, validating and planning one operation, checked
 * before any planning, on HTTP and graphql-ws alike (edge/admission.ts says where each runs).
 *
 *   tokens       counted by lexing the text before it is parsed (a source check), and again as
 *                the parser's own `maxTokens`: every later step is linear or quadratic in them
 *   depth, aliases, directives   graphql-armor's validation rules
 *   root fields  a rule of ours (graphql-armor has none): each root field is at least one
 *                subgraph fetch
 *
 * Each refusal is a GraphQL error whose `extensions.code` names the limit, with `limit` (and
 * `found` where it is known) so a client developer can see which one and by how much.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  type ASTVisitor,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { EdgeSource } from './admission.ts';

export interface OperationLimitsConfig {
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxDirectives: number;
}

export const LimitCode = {
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  OPERATION_TOO_DEEP: 'OPERATION_TOO_DEEP',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  TOO_MANY_ROOT_FIELDS: 'TOO_MANY_ROOT_FIELDS',
  TOO_MANY_DIRECTIVES: 'TOO_MANY_DIRECTIVES',
} as const;

export interface OperationLimits {
  /** Refuses an operation text with too many tokens, before it is parsed. */
  checkSource(source: Pick<EdgeSource, 'query'>): void;
  parseOptions: ParseOptions;
  validationRules: ValidationRule[];
}

export function limitRefusal(code: string, message: string, limit: number, found?: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code, limit, ...(found === undefined ? {} : { found }), http: { status: 400 } },
  });
}

/** Counts tokens up to `max + 1` and stops: a 10 MB query costs no more to refuse than a small one. */
export function countTokens(query: string, max: number): number {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      if (++count > max) break;
    }
  } catch {
    // A syntax error: the parser reports it properly, with its location.
  }
  return count;
}

/** armor reports through callbacks; we replace its uncoded error with our coded one. */
function armored(
  rule: (options: { n: number; propagateOnRejection: boolean; onReject: ((ctx: ValidationContext | null, e: GraphQLError) => void)[] }) => ValidationRule,
  n: number,
  refusal: (found: number | undefined) => GraphQLError,
): ValidationRule {
  return (context) =>
    rule({
      n,
      propagateOnRejection: false,
      onReject: [(_ctx, e) => context.reportError(refusal(Number(/found (\d+)/.exec(e.message)?.[1]) || undefined))],
    })(context) as unknown as ASTVisitor;
}

/** Root fields of each operation, through fragments; __typename costs nothing and is not counted. */
function maxRootFieldsRule(max: number): ValidationRule {
  return (context) => {
    const count = (set: SelectionSetNode, seen: Set<string>): number => {
      let n = 0;
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) n += s.name.value === '__typename' ? 0 : 1;
        else if (s.kind === Kind.INLINE_FRAGMENT) n += count(s.selectionSet, seen);
        else if (!seen.has(s.name.value)) {
          seen.add(s.name.value);
          const fragment = context.getFragment(s.name.value);
          if (fragment) n += count(fragment.selectionSet, seen);
        }
      }
      return n;
    };
    return {
      OperationDefinition(operation) {
        const found = count(operation.selectionSet, new Set());
        if (found > max) {
          context.reportError(
            limitRefusal(LimitCode.TOO_MANY_ROOT_FIELDS, `The operation selects ${found} root fields; at most ${max} are allowed. Split it into several operations.`, max, found),
          );
        }
      },
    };
  };
}

export function operationLimits(config: OperationLimitsConfig): OperationLimits {
  return {
    checkSource({ query }) {
      const found = countTokens(query, config.maxTokens);
      if (found > config.maxTokens) {
        throw limitRefusal(LimitCode.TOO_MANY_TOKENS, `The operation has more than ${config.maxTokens} tokens; send a smaller one.`, config.maxTokens);
      }
    },
    // The parser's own limit backs up the source check for any path that parses without it.
    parseOptions: { maxTokens: config.maxTokens },
    validationRules: [
      armored(maxDepthRule as never, config.maxDepth, (found) =>
        limitRefusal(LimitCode.OPERATION_TOO_DEEP, `The operation nests ${found ?? 'more'} levels deep; at most ${config.maxDepth} are allowed.`, config.maxDepth, found),
      ),
      armored(maxAliasesRule as never, config.maxAliases, (found) =>
        limitRefusal(LimitCode.TOO_MANY_ALIASES, `The operation uses ${found ?? 'too many'} aliases; at most ${config.maxAliases} are allowed.`, config.maxAliases, found),
      ),
      armored(maxDirectivesRule as never, config.maxDirectives, (found) =>
        limitRefusal(LimitCode.TOO_MANY_DIRECTIVES, `The operation uses ${found ?? 'too many'} directives; at most ${config.maxDirectives} are allowed.`, config.maxDirectives, found),
      ),
      maxRootFieldsRule(config.maxRootFields),
    ],
  };
}
