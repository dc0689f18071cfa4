/**
 * StartupError: a process cannot start because of its surroundings (a database that refuses
 * connections, a Redis that does not answer), not because of a bug. runProcess (run-process.ts)
 * logs it as one fatal line without a stack trace: the message says what and where, and a stack
 * into a driver would only bury that for the operator.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/**
 * Where a URL points, for a log line: `host:port/path`, never the user or password. The default
 * port of the scheme is written out (postgres 5432, redis 6379), so the line says exactly where
 * the process tried to connect.
 */
export function endpointOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(an unparsable URL)';
  }
  const defaults: Record<string, string> = { 'postgres:': '5432', 'postgresql:': '5432', 'redis:': '6379', 'rediss:': '6379' };
  const port = parsed.port || defaults[parsed.protocol] || '';
  const path = parsed.pathname === '/' ? '' : parsed.pathname;
  return `${parsed.hostname}${port ? `:${port}` : ''}${path}`;
}
