/**
 * Reading configuration: every service declares a zod schema for the variables it uses and parses
 * them here, in one place, so a misconfigured deploy fails at start with every problem listed at once.
 */
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** Parses `env` with `schema`; throws a ConfigError naming every bad variable. Empty strings count as unset. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
}

/** Variables every service understands. */
export const commonEnv = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const url = () => z.url();
