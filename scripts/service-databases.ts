/**
 * The services that own a database, discovered from subgraphs/<service>/prisma/, and their PostgreSQL URLs
 * from <SERVICE>_DATABASE_URL. Shared by `npm run db:migrate` and `npm run db:seed`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Env } from '@campus/kit/core';

export const ROOT = resolve(import.meta.dirname, '..');

export interface ServiceDatabase {
  service: string;
  migrationsDir: string;
  seedModule: string;
  url: string | undefined;
  envVar: string;
}

export function serviceDatabases(env: Env): ServiceDatabase[] {
  const subgraphsDir = join(ROOT, 'subgraphs');
  return readdirSync(subgraphsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(subgraphsDir, d.name, 'prisma', 'schema.prisma')))
    .map((d) => {
      const envVar = `${d.name.toUpperCase()}_DATABASE_URL`;
      return {
        service: d.name,
        migrationsDir: join(subgraphsDir, d.name, 'prisma', 'migrations'),
        seedModule: join(subgraphsDir, d.name, 'src', 'seed.ts'),
        url: env[envVar] || undefined,
        envVar,
      };
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
