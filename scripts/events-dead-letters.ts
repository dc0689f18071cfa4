/**
 * npm run events:dead-letters -- list [--group G] [--limit N] [--json]
 *     the events consumer groups gave up on (newest first): dead letter id, when, group, event
 *     type and id, deliveries, last error
 * npm run events:dead-letters -- replay [--group G] [--id ID ...]
 *     delivers them again, each to its own group only, and removes them from the dead letters:
 *     the ones named by --id, else every one (of --group)
 *
 * Reads REDIS_URL and REDIS_EVENTS_PREFIX as the services do. Dead letters of the in-process bus
 * (no REDIS_URL) live and die with their process; there is nothing to read from outside it.
 * docs/delivery.md says when events become dead letters and what to check before a replay.
 */
import { createRedisEventBus, DEFAULT_EVENTS_PREFIX, type DeadLetter } from '@campus/kit/events';

const USAGE = `usage: npm run events:dead-letters -- list [--group G] [--limit N] [--json]
       npm run events:dead-letters -- replay [--group G] [--id ID ...]`;

function fail(message: string, showUsage = false): never {
  console.error(`events:dead-letters: ${message}`);
  if (showUsage) console.error(USAGE);
  process.exit(1);
}

interface Args {
  command: 'list' | 'replay';
  group?: string;
  limit?: number;
  ids?: string[];
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'list' && command !== 'replay') fail(command ? `unknown command "${command}"` : 'no command given', true);
  const args: Args = { command, json: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    const value = () => {
      const v = rest[i + 1];
      if (v === undefined || v.startsWith('--')) fail(`${flag} needs a value`, true);
      i += 1;
      return v;
    };
    if (flag === '--group') args.group = value();
    else if (flag === '--limit' && command === 'list') {
      const raw = value();
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) fail(`--limit must be a positive whole number, not "${raw}"`);
      args.limit = n;
    } else if (flag === '--json' && command === 'list') args.json = true;
    else if (flag === '--id' && command === 'replay') {
      // Several ids after one --id, or --id before each.
      args.ids = [...(args.ids ?? []), value()];
      while (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--')) args.ids.push(rest[++i]!);
    } else fail(`unknown option "${flag}" for ${command}`, true);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const url = process.env.REDIS_URL;
if (!url) fail('REDIS_URL is not set: dead letters are kept on Redis (the in-process bus keeps them inside its own process)');
const prefix = process.env.REDIS_EVENTS_PREFIX || DEFAULT_EVENTS_PREFIX;
let where: string;
try {
  where = new URL(url).host;
} catch {
  fail('REDIS_URL is not a URL');
}

const bus = createRedisEventBus(url, {
  prefix,
  // The client would retry a refused connection for ever; a command line should say so and stop.
  onError: (error, context) => {
    if (context === 'redis commands connection') fail(`cannot reach Redis at ${where}: ${(error as Error).message || String(error)}`);
  },
});

const line = (d: DeadLetter) =>
  `${d.id}  ${d.deadAt}  group=${d.group}  ${d.event.type} ${d.event.id}  deliveries=${d.deliveries}  error: ${d.error}`;

try {
  if (args.command === 'list') {
    const [letters, total] = await Promise.all([
      bus.deadLetters({ ...(args.limit ? { limit: args.limit } : {}), ...(args.group !== undefined ? { group: args.group } : {}) }),
      bus.deadLetterCount(),
    ]);
    if (args.json) {
      console.log(JSON.stringify(letters, null, 2));
    } else {
      const of = args.group !== undefined ? ` of group ${args.group}` : '';
      console.log(`${total} dead letter(s) under ${prefix} on ${where}; ${letters.length} shown${of}, newest first`);
      for (const d of letters) console.log(line(d));
    }
  } else {
    const requested = args.ids ? `${args.ids.length} named` : 'every';
    const replayed = await bus.replayDeadLetters({
      ...(args.ids ? { ids: args.ids } : {}),
      ...(args.group !== undefined ? { group: args.group } : {}),
    });
    const of = args.group !== undefined ? ` of group ${args.group}` : '';
    console.log(`replayed ${replayed} dead letter(s) (${requested}${of}) under ${prefix} on ${where}; ${await bus.deadLetterCount()} left`);
    if (args.ids && replayed < args.ids.length) {
      console.log(`${args.ids.length - replayed} id(s) were not dead letters${of} (already replayed, or mistyped)`);
    }
  }
} catch (error) {
  fail((error as Error).message || String(error));
} finally {
  await bus.close();
}
