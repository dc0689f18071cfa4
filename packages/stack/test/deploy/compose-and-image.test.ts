/**
 * The Dockerfile and deploy/compose.yaml agree with the code (docs/deploy.md): one image target per
 * process of supergraph.yaml and the router, exposing and health-checking the port its config
 * listens on and starting its compiled entry point; a runtime stage with production dependencies
 * only; and a compose file whose services, migration jobs, variables, URLs and health checks are
 * the ones the services' config.ts files read (config-probe.ts). Plain file checks: no Docker needed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { KEY_PATHS, listensOn, PROCESSES, reads, readRepoFile, REPO_ROOT, SUBGRAPHS, workspaceDir } from './config-probe.ts';

interface Stage {
  name: string;
  from: string;
  lines: string[];
}

/** The Dockerfile's stages, each a list of instructions (continuation lines joined, comments dropped). */
function dockerStages(): Stage[] {
  const joined = readRepoFile('Dockerfile')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n\s*/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[2] ?? `#${stages.length}`, from: from[1]!, lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

const stages = dockerStages();
const stage = (name: string) => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage "${name}"`);
  return found;
};
const instructions = (s: Stage, keyword: string) => s.lines.filter((l) => l.toUpperCase().startsWith(`${keyword} `)).map((l) => l.slice(keyword.length + 1).trim());
/** The stages a stage is built on, itself included (FROM <stage>, and COPY --from=<stage>). */
function lineage(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name) || !stages.some((s) => s.name === name)) return seen;
  seen.add(name);
  const s = stage(name);
  lineage(s.from, seen);
  for (const copy of instructions(s, 'COPY')) {
    const from = /--from=(\S+)/.exec(copy)?.[1];
    if (from) lineage(from, seen);
  }
  return seen;
}

/** Every workspace of the root package.json (globs of the form dir/* or a plain dir). */
function workspaces(): string[] {
  const globs = (JSON.parse(readRepoFile('package.json')) as { workspaces: string[] }).workspaces;
  return globs.flatMap((g) =>
    g.endsWith('/*')
      ? readdirSync(join(REPO_ROOT, g.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory() && existsSync(join(REPO_ROOT, g.slice(0, -2), d.name, 'package.json')))
          .map((d) => `${g.slice(0, -2)}/${d.name}`)
      : [g],
  );
}

describe('Dockerfile', () => {
  test.each(PROCESSES)('target %s exposes, health-checks and starts what the process is', (process) => {
    const s = stage(process);
    const port = listensOn(process);
    const name = process.toUpperCase();
    expect(s.from).toBe('runtime');
    expect(instructions(s, 'EXPOSE')).toEqual([String(port)]);
    expect(instructions(s, 'WORKDIR')).toEqual([`/app/${workspaceDir(process)}`]);
    // `npm start -w <workspace>` is `node dist/index.js` (docs/builds.md), run without npm in between.
    expect(instructions(s, 'CMD')).toEqual(['["node", "dist/index.js"]']);
    const [healthcheck] = instructions(s, 'HEALTHCHECK');
    expect(healthcheck).toContain(`process.env.${name}_PORT||${port}`);
    expect(healthcheck).toContain("+'/health'");
    expect(reads(process, `${name}_PORT`)).toBe(true);
  });

  test('the runtime runs as a non-root user, on production dependencies only, without tsx', () => {
    const runtime = stage('runtime');
    const [user] = instructions(runtime, 'USER');
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    const deps = instructions(runtime, 'COPY').find((c) => c.includes('--from=prod-deps'));
    expect(deps).toBeDefined();
    expect(instructions(stage('prod-deps'), 'RUN').join(' ')).toMatch(/npm ci --omit=dev/);
    for (const name of [...lineage('runtime'), ...PROCESSES]) {
      // The build stage may use dev tools; nothing the runtime is made of runs or installs them.
      if (name === 'build') continue;
      expect(stage(name).lines.join('\n'), `stage ${name}`).not.toMatch(/\btsx\b/);
    }
    // The runtime starts from the bare base image: of the build stage's tree (dev dependencies,
    // sources) only what it copies comes along.
    expect(stages.map((x) => x.name)).not.toContain(runtime.from);
  });

  test('npm ci is given every workspace package.json, and npm is the version that wrote the lockfile', () => {
    const copies = instructions(stage('manifests'), 'COPY').join('\n');
    for (const ws of workspaces()) expect(copies, ws).toContain(`${ws}/package.json ${ws}/`);
    const packageManager = (JSON.parse(readRepoFile('package.json')) as { packageManager: string }).packageManager;
    const npmVersion = readRepoFile('Dockerfile').match(/^ARG NPM_VERSION=(\S+)$/m)?.[1];
    expect(`npm@${npmVersion}`).toBe(packageManager);
  });

  test('the runtime gets every file a process reads at run time, from the build', () => {
    const copied = instructions(stage('runtime'), 'COPY')
      .filter((c) => c.includes('--from=build'))
      .flatMap((c) => c.split(/\s+/).slice(1, -1))
      .map((p) => posix.relative('/app', p));
    // docs/builds.md, "What is not TypeScript": the SDL and the migrations beside each subgraph's dist/,
    // the router's supergraph and trusted documents beside its own.
    const needed = [
      ...SUBGRAPHS.flatMap((s) => [`subgraphs/${s}/dist`, `subgraphs/${s}/schema.graphql`, `subgraphs/${s}/prisma/migrations`]),
      'router/dist',
      'router/supergraph.graphql',
      'router/persisted-queries.json',
      'packages/kit/dist',
      'scripts/dist',
    ];
    for (const path of needed) expect(copied, path).toContain(path);
    // Each is a source file, a workspace's compiled dist/, or written by the build stage.
    const build = instructions(stage('build'), 'RUN').join(' ');
    const scriptsOut = posix.normalize(posix.join('deploy/docker', (JSON.parse(readRepoFile('deploy/docker/tsconfig.scripts.json').replace(/^\s*\/\/.*$/gm, '')) as { compilerOptions: { outDir: string } }).compilerOptions.outDir));
    for (const path of copied) {
      const made =
        existsSync(join(REPO_ROOT, path)) ||
        (path.endsWith('/dist') && existsSync(join(REPO_ROOT, posix.dirname(path), 'tsconfig.src.json'))) ||
        (path === scriptsOut && build.includes('tsc -p deploy/docker/tsconfig.scripts.json')) ||
        build.includes(`--out ${path}`);
      expect(made, `${path}: neither in the repository nor made by the build stage`).toBe(true);
    }
  });

  test('the compiled operator scripts include the migration every job runs', () => {
    const config = JSON.parse(readRepoFile('deploy/docker/tsconfig.scripts.json').replace(/^\s*\/\/.*$/gm, '')) as { files: string[] };
    expect(config.files.map((f) => posix.normalize(posix.join('deploy/docker', f)))).toContain('scripts/db-migrate.ts');
    const compose = readRepoFile('deploy/compose.yaml');
    expect(compose).toContain('command: ["node", "/app/scripts/dist/db-migrate.js"]');
  });

  test('.dockerignore keeps the host\'s installs, builds, data, tests and secrets out, and lets in what the build reads of deploy/', () => {
    const lines = readRepoFile('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const pattern of ['**/node_modules', '**/dist', '**/src/generated', '.data', '.git', '**/test', '.env', 'deploy']) expect(lines, pattern).toContain(pattern);
    const read = new Set(readRepoFile('Dockerfile').split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n').match(/\bdeploy\/[\w./-]+/g) ?? []);
    expect(read.size).toBeGreaterThan(0);
    for (const path of read) expect(lines, path).toContain(`!${path}`);
  });
});

interface ComposeService {
  build?: { context: string; target: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
  ports?: string[];
  volumes?: string[];
}

describe('deploy/compose.yaml', () => {
  const compose = YAML.parse(readRepoFile('deploy/compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> };
  const services = compose.services;
  /** KEY=value lines of an env file's committed example. */
  const envFileKeys = (file: string) =>
    readRepoFile(posix.join('deploy', `${file}.example`))
      .split('\n')
      .map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l.trim())?.[1])
      .filter((k): k is string => Boolean(k));
  const variables = (s: ComposeService) => [...Object.keys(s.environment ?? {}), ...(s.env_file ?? []).flatMap(envFileKeys)];

  test('runs every process and a migration job per subgraph, each started after what it needs', () => {
    for (const process of PROCESSES) {
      const s = services[process];
      expect(s, process).toBeDefined();
      expect(s!.build).toEqual({ context: '..', target: process });
      expect(s!.restart).toBe('unless-stopped');
      expect(s!.depends_on?.redis).toEqual({ condition: 'service_healthy' });
    }
    for (const subgraph of SUBGRAPHS) {
      const migrate = services[`${subgraph}-migrate`];
      expect(migrate, `${subgraph}-migrate`).toBeDefined();
      expect(migrate!.image).toBe(services[subgraph]!.image);
      expect(migrate!.command).toEqual(['node', '/app/scripts/dist/db-migrate.js']);
      expect(migrate!.restart).toBe('no');
      expect(migrate!.depends_on?.postgres).toEqual({ condition: 'service_healthy' });
      expect(services[subgraph]!.depends_on?.[`${subgraph}-migrate`]).toEqual({ condition: 'service_completed_successfully' });
      expect(services.router!.depends_on?.[subgraph]).toEqual({ condition: 'service_healthy' });
    }
    // Only the router is published; the subgraphs answer signed requests on the internal network only.
    expect(Object.entries(services).filter(([, s]) => s.ports?.length).map(([name]) => name)).toEqual(['router']);
  });

  test('every variable a service or its job is given is one its config reads', () => {
    for (const [name, s] of Object.entries(services)) {
      const process = name.replace(/-migrate$/, '');
      if (!PROCESSES.includes(process)) continue;
      const unread = variables(s).filter((v) => !reads(process, v));
      expect(unread, `${name}: variables ${process} does not read`).toEqual([]);
      if (name.endsWith('-migrate')) expect(variables(s)).toContain(`${process.toUpperCase()}_DATABASE_URL`);
    }
    // The secrets production refuses to start without are in the env files.
    expect(variables(services.router!)).toContain('ROUTER_SIGNING_KEYS');
    expect(variables(services.users!)).toContain('USERS_JWT_PRIVATE_KEY');
    expect(variables(services.payments!)).toEqual(expect.arrayContaining(['PAYMENTS_SIGNING_KEYS', 'PAYMENTS_WEBHOOK_SECRET']));
  });

  test('URLs name a service of the file, on the port it listens on, at the path it serves', () => {
    let urls = 0;
    for (const [name, s] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(s.environment ?? {})) {
        if (!/^https?:\/\//.test(value)) continue;
        urls++;
        const url = new URL(value);
        const target = services[url.hostname];
        expect(target, `${name} ${variable}: no service ${url.hostname}`).toBeDefined();
        expect(Number(url.port), `${name} ${variable}`).toBe(listensOn(url.hostname, target!.environment));
        if (variable === 'ROUTER_JWKS' || variable === 'PAYMENTS_JWKS') expect(url.pathname, `${name} ${variable}`).toBe(KEY_PATHS.service);
        if (variable === 'JWKS_URL') expect(url.pathname, `${name} ${variable}`).toBe(KEY_PATHS.accessTokens);
      }
    }
    expect(urls).toBeGreaterThan(0);
  });

  test('health checks ask /ready on the port each process listens on', () => {
    for (const process of PROCESSES) {
      const test = services[process]!.healthcheck?.test.join(' ') ?? '';
      expect(test, process).toContain(`http://127.0.0.1:${listensOn(process, services[process]!.environment)}/ready`);
    }
  });

  test('Redis keeps its streams across restarts and never evicts them', () => {
    const command = services.redis!.command!.join(' ');
    for (const flag of ['--appendonly yes', '--appendfsync everysec', '--maxmemory-policy noeviction']) expect(command).toContain(flag);
    expect(services.redis!.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  test('PostgreSQL creates one database and role per subgraph, with the passwords the services connect with', () => {
    expect(services.postgres!.volumes).toContain('./datastores/init-databases.sh:/docker-entrypoint-initdb.d/10-campus-databases.sh:ro');
    const script = readRepoFile('deploy/datastores/init-databases.sh');
    expect(/^for service in (.+); do$/m.exec(script)?.[1]!.split(' ').sort()).toEqual([...SUBGRAPHS].sort());
    const postgresEnv = readRepoFile('deploy/env/postgres.env.example');
    for (const subgraph of SUBGRAPHS) {
      const password = new RegExp(`^CAMPUS_${subgraph.toUpperCase()}_DB_PASSWORD=(\\S+)$`, 'm').exec(postgresEnv)?.[1];
      expect(password, `CAMPUS_${subgraph.toUpperCase()}_DB_PASSWORD`).toBeDefined();
      const envFile = services[subgraph]!.env_file![0]!;
      const url = new RegExp(`^${subgraph.toUpperCase()}_DATABASE_URL=(\\S+)$`, 'm').exec(readRepoFile(posix.join('deploy', `${envFile}.example`)))?.[1];
      expect(url).toBe(`postgres://campus_${subgraph}:${password}@postgres:5432/campus_${subgraph}`);
    }
  });
});
