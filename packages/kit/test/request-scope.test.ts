/**
 * The request's scope (src/core/request-scope.ts): one AsyncLocalStorage whose value is the
 * request's id, or a server's own record of the request with the id in it (the router's
 * observation), followed across awaits and timers, and read by the logger for every line.
 */
import { describe, expect, it } from 'vitest';
import { captureLogLines, createLogger } from '../src/core/logger.ts';
import { currentRequestId, currentRequestScope, runInRequestScope, runWithRequestId } from '../src/core/request-scope.ts';

class Followed {
  readonly codes: string[] = [];
  constructor(readonly requestId: string) {}
}

describe('request scope', () => {
  it("keeps a server's own record of the request, with its id, across awaits and timers", async () => {
    const record = new Followed('r-own');
    const seen = await runInRequestScope(record, async () => {
      await Promise.resolve();
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { scope: currentRequestScope(), id: currentRequestId() };
    });
    expect(seen.scope).toBe(record);
    expect(seen.id).toBe('r-own');
    expect(currentRequestScope()).toBeUndefined();
  });

  it('writes the id of the record in scope on every log line, as it does for an id alone', () => {
    const capture = captureLogLines('info');
    try {
      const logger = createLogger('router');
      runInRequestScope(new Followed('r-record'), () => logger.info('with a record'));
      runWithRequestId('r-id', () => logger.info('with an id'));
      logger.info('outside');
      expect(capture.lines().map((line) => [line.msg, line.requestId])).toEqual([
        ['with a record', 'r-record'],
        ['with an id', 'r-id'],
        ['outside', undefined],
      ]);
    } finally {
      capture.stop();
    }
  });

  it('keeps the scopes of requests served side by side apart', async () => {
    const ids = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        runInRequestScope(new Followed(id), async () => {
          await new Promise((resolve) => setTimeout(resolve, 3 - id.charCodeAt(0) + 97));
          return (currentRequestScope() as Followed).requestId;
        }),
      ),
    );
    expect(ids).toEqual(['a', 'b', 'c']);
  });
});
