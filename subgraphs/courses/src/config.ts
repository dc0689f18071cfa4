/** The courses service's configuration, read from the environment in one place. */
import { parseEnv, type Env } from '@campus/kit/core';
import { jwksSourceEnv, SERVICE_JWKS_PATH } from '@campus/kit/identity';
import { serviceConfig, serviceEnv, usersJwksUrl, userTokensEnv, type ServiceConfig } from '@campus/kit/subgraph';
import { z } from 'zod';

const schema = z.object({
  ...serviceEnv('COURSES', 4002),
  /** The users service's public keys (JWKS_URL, else at USERS_URL): every subgraph verifies access tokens itself. */
  ...userTokensEnv,
  /** The payments service's public keys (it asks for prices at checkout): its JWKS URL or the JWKS itself. */
  PAYMENTS_JWKS: jwksSourceEnv(`http://localhost:4003${SERVICE_JWKS_PATH}`),
});

export interface CoursesConfig extends ServiceConfig {
  /** The users service's JWKS, which access tokens are verified with. */
  jwksUrl: string;
  paymentsJwks: string;
}

export function loadConfig(env: Env): CoursesConfig {
  const e = parseEnv(schema, env);
  return {
    ...serviceConfig('COURSES', e),
    jwksUrl: usersJwksUrl(e),
    paymentsJwks: e.PAYMENTS_JWKS,
  };
}
