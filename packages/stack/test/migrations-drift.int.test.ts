/**
 * Drift check: for every subgraphs/<service>/prisma/schema.prisma, replaying the committed migrations must
 * produce exactly the schema (Prisma's schema engine diffs them; see docs/migrations.md). When this
 * fails, the fix is `npm run db:migration:create -- <service> <name>` and committing the result.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { diffMigrationsToSchema } from '@campus/kit/tooling';

const subgraphsDir = join(dirname(fileURLToPath(import.meta.url)), '../../../subgraphs');
const services = readdirSync(subgraphsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(subgraphsDir, entry.name, 'prisma', 'schema.prisma')))
  .map((entry) => entry.name)
  .sort();

const paths = (service: string) => ({
  schemaPath: join(subgraphsDir, service, 'prisma', 'schema.prisma'),
  migrationsDir: join(subgraphsDir, service, 'prisma', 'migrations'),
});

describe('schema.prisma and committed migrations agree', () => {
  it('finds at least one service', () => {
    expect(services).not.toEqual([]);
  });

  it.each(services)('%s', async (service) => {
    const sql = await diffMigrationsToSchema(paths(service));
    expect(
      sql,
      `subgraphs/${service}/prisma/schema.prisma differs from its migrations; run: npm run db:migration:create -- ${service} <name>`,
    ).toBe('');
  });
});

describe('the drift check can fail', () => {
  const temp = mkdtempSync(join(tmpdir(), 'campus-drift-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it.each(services)('%s: a schema with an extra model and an extra field yields a diff naming both', async (service) => {
    const { schemaPath, migrationsDir } = paths(service);
    const copy = join(temp, `${service}.prisma`);
    copyFileSync(schemaPath, copy);
    const original = readFileSync(copy, 'utf8');
    const firstModel = /^model \w+ \{$/m.exec(original);
    expect(firstModel, 'the schema has a model to add a field to').not.toBeNull();
    const edited =
      original.replace(firstModel![0], `${firstModel![0]}\n  driftProbeField Int?`) +
      '\nmodel DriftProbe {\n  id Int @id\n}\n';
    writeFileSync(copy, edited);

    const sql = await diffMigrationsToSchema({ schemaPath: copy, migrationsDir });
    expect(sql).toMatch(/CREATE TABLE "DriftProbe"/);
    expect(sql).toMatch(/ALTER TABLE "[^"]+" ADD COLUMN\s+"driftProbeField" INTEGER/);
  });
});
