/**
 * The one input layer every subgraph shares. Four parts:
 *
 *   parseInput       zod validation failures become BAD_USER_INPUT naming the offending field, so
 *                    every mutation validates its input the same way.
 *   checkArguments   graphql-middleware run before graphql-shield on every field of every subgraph
 *                    (applyShield in shield.ts): any string anywhere in a field's arguments with a
 *                    NUL byte, another control character or a lone surrogate is refused as
 *                    BAD_USER_INPUT naming the argument, before a rule or a resolver sees it.
 *                    PostgreSQL cannot store NUL in text (it was an INTERNAL_SERVER_ERROR), and a
 *                    control character in a stored name reaches every page that shows it.
 *   text rules       zod schemas for what a field is: `displayText` (names, titles: one line, and
 *                    something visible), `lineText` (one line: slugs, keys, method ids), `longText`
 *                    (descriptions, lesson text, reasons: tabs and line breaks allowed).
 *   escapeLike       for every LIKE/ILIKE (Prisma's `contains`, `startsWith`, `endsWith` included):
 *                    `%` and `_` a client types are matched as themselves.
 *
 * Tab, line feed and carriage return are the only control characters text may hold, and only
 * multi-line text: checkArguments allows them everywhere because it cannot tell a name from a
 * description; the field's zod schema refuses them where one line is expected.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { z } from 'zod';
import { badUserInput } from './errors.ts';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, prefix = 'input'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].join('.');
  throw badUserInput(field, `${field}: ${issue.message}`);
}

/** C0 controls but tab, LF and CR; DEL; C1 controls; and lone UTF-16 surrogates (not Unicode text). */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|\p{Cs}/u;
/** The same, plus what breaks a line: tab, LF, CR and the Unicode line and paragraph separators. */
const CONTROL_IN_LINE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]|\p{Cs}/u;
/**
 * Characters that draw nothing: white space, format characters (zero-width spaces and joiners,
 * direction marks, embeddings, overrides and isolates, the BOM, tag characters), other default
 * ignorables (Hangul fillers, variation selectors) and the blank Braille pattern, which fonts draw
 * empty and impersonators use as a "visible" blank.
 */
const INVISIBLE_ONLY = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\u2800]*$/u;

const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `value` cannot be accepted as text, or undefined. `multiline` allows tab, LF and CR. */
export function textProblem(value: string, { multiline }: { multiline: boolean }): string | undefined {
  const found = (multiline ? CONTROL : CONTROL_IN_LINE).exec(value);
  if (!found) return undefined;
  const c = found[0];
  if (/\p{Cs}/u.test(c)) return 'is not valid Unicode text (a lone surrogate); send UTF-8 text';
  if (!multiline && /[\t\n\r\u2028\u2029]/.test(c)) return `must be a single line (found ${codePoint(c)}); remove tabs and line breaks`;
  return `must not contain control characters (found ${codePoint(c)}); remove it and send the text again`;
}

/** True for text made only of characters that draw nothing (the empty string included). */
export const isInvisibleOnly = (value: string) => INVISIBLE_ONLY.test(value);

const noControls = (multiline: boolean) => (value: string, ctx: z.RefinementCtx) => {
  const problem = textProblem(value, { multiline });
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

/**
 * One line of text: subtitles, payment method ids, search terms; trimmed unless `trim: false`
 * (opaque tokens such as idempotency keys, where a space is part of the key).
 */
export const lineText = (max: number, { trim = true }: { trim?: boolean } = {}) =>
  (trim ? z.string().trim() : z.string()).max(max, `must be at most ${max} characters`).superRefine(noControls(false));

/**
 * A name or title: one line, trimmed, 1 to `max` characters, and at least one of them visible. A
 * name of zero-width spaces or direction overrides alone shows as nothing (or flips the text
 * around it) wherever it is displayed, and lets one account pass for another.
 */
export const displayText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .superRefine(noControls(false))
    .refine((v) => !isInvisibleOnly(v), { message: 'must contain visible characters, not only spaces, invisible or direction characters', abort: true });

/** Text that may span lines (descriptions, lesson text, reasons), trimmed; tab, LF and CR allowed. */
export const longText = (max: number) =>
  z.string().trim().max(max, `must be at most ${max} characters`).superRefine(noControls(true));

/**
 * `value` as a LIKE pattern that matches exactly that text: `\`, `%` and `_` escaped with `\`,
 * PostgreSQL's default LIKE escape. Prisma's `contains`/`startsWith`/`endsWith` build LIKE patterns
 * without escaping, so an admin's search for `%` would otherwise list every user.
 */
export const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The first string in an argument value that is not acceptable text, with its path. */
function findBadText(value: unknown, path: string): { field: string; problem: string } | undefined {
  if (typeof value === 'string') {
    const problem = textProblem(value, { multiline: true });
    return problem ? { field: path, problem } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findBadText(value[i], `${path}.${i}`);
      if (bad) return bad;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const bad = findBadText(item, `${path}.${key}`);
      if (bad) return bad;
    }
  }
  return undefined;
}

type Resolve = (parent: unknown, args: Record<string, unknown>, ctx: unknown, info: GraphQLResolveInfo) => unknown;

/**
 * graphql-middleware for every field: refuses control characters in any argument (see above).
 * Fields without arguments, nearly all of them, cost one check of an empty object and stay
 * synchronous.
 */
export function checkArguments(resolve: Resolve, parent: unknown, args: Record<string, unknown>, ctx: unknown, info: GraphQLResolveInfo): unknown {
  for (const name in args) {
    const bad = findBadText(args[name], name);
    if (bad) throw badUserInput(bad.field, `${bad.field}: ${bad.problem}.`);
  }
  return resolve(parent, args, ctx, info);
}
