/**
 * The services that own a database, from their definitions (subgraphs/<name>/src/service.ts, in
 * the order the stack runs them), and their PostgreSQL URLs from <SERVICE>_DATABASE_URL. Shared by
 * `npm run db:migrate` and `npm run db:seed`.
 */
import type { Env } from '@campus/kit/core';
import type { ServiceDefinition } from '@campus/kit/subgraph';
import { SERVICE_DEFINITIONS } from '@campus/stack/services';

export interface ServiceDatabase {
  service: string;
  definition: ServiceDefinition;
  migrationsDir: string;
  url: string | undefined;
  envVar: string;
}

export function serviceDatabases(env: Env): ServiceDatabase[] {
  return SERVICE_DEFINITIONS.map((definition) => {
    const envVar = `${definition.name.toUpperCase()}_DATABASE_URL`;
    return { service: definition.name, definition, migrationsDir: definition.migrationsDir, url: env[envVar] || undefined, envVar };
  });
}

/** The configured ones; exits with a clear message when none is. */
export function configuredDatabases(env: Env, command: string): ServiceDatabase[] {
  const all = serviceDatabases(env);
  const configured = all.filter((d) => d.url);
  if (configured.length === 0) {
    console.error(
      `${command}: no database configured. Set ${all.map((d) => d.envVar).join(', ')} to PostgreSQL URLs.\n` +
        '(The embedded default needs neither: `npm start` migrates and seeds its PGlite databases itself.)',
    );
    process.exit(1);
  }
  for (const d of all.filter((x) => !x.url)) console.log(`${d.service}: ${d.envVar} not set, skipped`);
  return configured;
}
