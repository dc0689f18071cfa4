/**
 * Log levels in production: what a client got wrong is logged at info (30) without a stack, so
 * that an alert on level 50 means a fault; a fault is logged at error (50) with its stack. Read
 * from the JSON lines each process of the production topology writes (every service its own
 * process, NODE_ENV=production, packages/stack/src/process-stack.ts), with requests through the
 * router as a client sends them.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, waitFor } from '@campus/test-kit';
import { processStackAvailable, startProcessStack, type ProcessName, type ProcessStack } from '../../src/process-stack.ts';

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  err?: { type?: string; message?: string; stack?: string };
  [key: string]: unknown;
}

const PROCESSES: ProcessName[] = ['router', 'users', 'courses', 'payments'];

describe.skipIf(!processStackAvailable())('log levels of client errors and faults', () => {
  let stack: ProcessStack;
  /** Where each process's output stood before the request under test. */
  let mark: Map<ProcessName, number>;

  const linesSince = (name: ProcessName): LogLine[] =>
    stack
      .output(name)
      .slice(mark.get(name) ?? 0)
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);

  /** Sends one request and returns the lines each process logged for it, once `expected` are there. */
  async function logged(send: () => Promise<unknown>, expected: (lines: Record<ProcessName, LogLine[]>) => boolean) {
    mark = new Map(PROCESSES.map((n) => [n, stack.output(n).length]));
    const response = await send();
    const lines = await waitFor(() => {
      const byProcess = Object.fromEntries(PROCESSES.map((n) => [n, linesSince(n)])) as Record<ProcessName, LogLine[]>;
      return expected(byProcess) && byProcess;
    }, 'the log lines of the request');
    return { response, lines };
  }

  const clientError = (code: string) => (l: LogLine) => l.msg === 'client error' && l.code === code;
  const errorsAndWorse = (lines: Record<ProcessName, LogLine[]>) => PROCESSES.flatMap((n) => lines[n].filter((l) => l.level >= 50));

  beforeAll(async () => {
    stack = await startProcessStack();
  });
  afterAll(() => stack?.close());

  it('logs an invalid query (GRAPHQL_VALIDATION_FAILED) at info, without a stack', async () => {
    const { response, lines } = await logged(
      () => graphql(stack.routerUrl, '{ courses(first: 1) { totalCount nope } }'),
      (l) => l.router.some(clientError('GRAPHQL_VALIDATION_FAILED')),
    );
    expect((response as Awaited<ReturnType<typeof graphql>>).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const line = lines.router.find(clientError('GRAPHQL_VALIDATION_FAILED'))!;
    expect(line.level).toBe(30);
    expect(line.err).toBeUndefined();
    expect(errorsAndWorse(lines)).toEqual([]);
  });

  it('logs BAD_USER_INPUT at info without a stack or the values: a variable the router refuses, and an argument a subgraph refuses', async () => {
    const atRouter = await logged(
      () => graphql(stack.routerUrl, 'query($n: Int!) { courses(first: $n) { totalCount } }', { variables: { n: 'secret-value' } }),
      (l) => l.router.some(clientError('BAD_USER_INPUT')),
    );
    const routerLine = atRouter.lines.router.find(clientError('BAD_USER_INPUT'))!;
    expect(routerLine).toMatchObject({ level: 30 });
    expect(routerLine.err).toBeUndefined();
    // graphql-js quotes the refused value in its message: it stays out of the log.
    expect(JSON.stringify(atRouter.lines.router)).not.toContain('secret-value');
    expect(errorsAndWorse(atRouter.lines)).toEqual([]);

    const atSubgraph = await logged(
      () => graphql(stack.routerUrl, '{ courses(first: 100000) { totalCount } }'),
      (l) => l.courses.some(clientError('BAD_USER_INPUT')) && l.router.some(clientError('BAD_USER_INPUT')),
    );
    expect((atSubgraph.response as Awaited<ReturnType<typeof graphql>>).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', serviceName: 'courses' });
    for (const name of ['courses', 'router'] as const) {
      const line = atSubgraph.lines[name].find(clientError('BAD_USER_INPUT'))!;
      expect(line.level, name).toBe(30);
      expect(line.err, name).toBeUndefined();
    }
    expect(errorsAndWorse(atSubgraph.lines)).toEqual([]);
  });

  // Over HTTP, Apollo Server hands the router's executor a document whose operation it could not
  // pick (several and no operationName, or a name that is not there), and a subscription, which
  // the router serves over graphql-ws only. Both are the client's request, answered with 400.
  it.each([
    ['two operations and no operationName', { query: 'query A { __typename } query B { __typename }' }, 'OPERATION_RESOLUTION_FAILURE'],
    ['an operationName the document does not have', { query: 'query A { __typename }', operationName: 'C' }, 'OPERATION_RESOLUTION_FAILURE'],
    ['a subscription over HTTP', { query: 'subscription { courseUpdated(id: "x") { title } }' }, 'BAD_REQUEST'],
  ])('answers %s with a client error logged at info', async (_what, body, code) => {
    const { response, lines } = await logged(
      async () => {
        const res = await fetch(stack.routerUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as { errors?: { extensions?: { code?: string } }[] } };
      },
      (l) => l.router.some((line) => line.msg === 'client error' || line.level >= 50),
    );
    const { status, body: answer } = response as { status: number; body: { errors?: { extensions?: { code?: string } }[] } };
    expect(answer.errors?.[0]?.extensions?.code).toBe(code);
    expect(status).toBe(400);
    expect(lines.router.find(clientError(code))).toMatchObject({ level: 30 });
    expect(errorsAndWorse(lines)).toEqual([]);
  });

  it('logs a fault (a table the courses service needs is gone) at error, with its stack, in courses and the router', async () => {
    const db = new pg.Client({ connectionString: new URL(`/${stack.databases.courses}`, process.env.TEST_DATABASE_URL).href });
    await db.connect();
    try {
      await db.query('ALTER TABLE "Course" RENAME TO "CourseMissing"');
    } finally {
      await db.end();
    }
    const { response, lines } = await logged(
      () => graphql(stack.routerUrl, '{ courses(first: 1) { totalCount } }'),
      (l) => l.courses.some((line) => line.level === 50) && l.router.some((line) => line.level === 50),
    );
    // Production: the client sees that something failed on our side, nothing of what.
    const error = (response as Awaited<ReturnType<typeof graphql>>).errors?.[0];
    expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error?.message).not.toContain('Course');
    for (const name of ['courses', 'router'] as const) {
      const line = lines[name].find((l) => l.level === 50)!;
      expect(line.msg, name).toBe('unexpected error');
      expect(line.err?.stack, name).toMatch(/\n\s+at /);
    }
    expect(lines.courses.find((l) => l.level === 50)!.err!.message).toMatch(/"Course" does not exist/);
  });
});
