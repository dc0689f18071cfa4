/** The courses service's configuration, read from the environment in one place. */
import { parseEnv, serviceConfig, serviceEnv, type Env, type ServiceConfig } from '@campus/kit';
import { z } from 'zod';

const schema = z.object({
  ...serviceEnv('COURSES', 4002),
  /** The users service's public keys: every subgraph verifies access tokens itself. */
  JWKS_URL: z.url().default('http://localhost:4001/.well-known/jwks.json'),
});

export interface CoursesConfig extends ServiceConfig {
  jwksUrl: string;
}

export function loadConfig(env: Env): CoursesConfig {
  const e = parseEnv(schema, env);
  return {
    ...serviceConfig('COURSES', e),
    jwksUrl: e.JWKS_URL,
  };
}
