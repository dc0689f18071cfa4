/**
 * Turns zod validation failures into BAD_USER_INPUT errors naming the offending field, so every
 * mutation validates its input the same way.
 */
import type { z } from 'zod';
import { badUserInput } from './errors.ts';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, prefix = 'input'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].join('.');
  throw badUserInput(field, `${field}: ${issue.message}`);
}
