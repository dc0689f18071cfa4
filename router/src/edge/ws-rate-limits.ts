/**
 * graphql-ws's own limits, beside the general and strict classes every WebSocket operation already
 * passes through the admission stages (edge/rate-limits.ts):
 *
 *   connections per address   open sockets per client address on this instance; checked on the
 *                             HTTP upgrade, which also costs one point of the address's general
 *                             budget (a reconnect storm is a flood too). A refusal is answered as
 *                             HTTP 429 with Retry-After and a JSON GraphQL error on the upgrade
 *                             itself: no socket is opened, and graphql-ws clients treat it as a
 *                             failed connect and back off
 *   operations in flight      per connection: subscriptions running plus queries and mutations
 *                             not yet answered (graphql-ws's own table of them, so nothing to leak)
 *   operations per second     per connection: every `subscribe` message, counted before parsing
 *
 * The last two are refused with an `error` message for that operation id; the socket stays open.
 * Open connections and per-connection counters are held in this instance's memory, not in Redis:
 * a socket lives on one instance, and a shared counter decremented on close would drift for ever
 * after an instance crashed with sockets open.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GraphQLError } from 'graphql';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { clientAddress, type TrustProxy } from '../subscriptions/client-address.ts';
import { addressKey, rateLimitedError, retryAfterSeconds, type RateLimitRefusal, type RateLimits } from './rate-limits.ts';

// What to tell a client refused for open connections: they free up when its other sockets close,
// which no counter can predict; long enough not to invite a reconnect loop.
const CONNECTIONS_RETRY_AFTER_SECONDS = 30;

export interface WsRateLimits {
  /**
   * Admits or refuses an HTTP upgrade. Admitted: calls `accept()`, which completes the WebSocket
   * handshake; the connection's slot is released when the socket closes. Refused: answers 429 on
   * the socket and closes it.
   */
  admitUpgrade(req: IncomingMessage, socket: Duplex, accept: () => void): void;
  /**
   * Checks one `subscribe` message of `connection` (any object identifying it) with `inFlight`
   * operations of it running, this one included. Resolves with the error to answer, or undefined.
   */
  checkOperation(connection: object, inFlight: number): Promise<GraphQLError | undefined>;
  /** Open sockets by address bucket, for tests and stats. */
  openConnections(): number;
}

/**
 * `onRefusedUpgrade` hears of upgrades refused here: they are answered on the raw socket, never as a
 * GraphQL error the router's formatError sees, so the metrics count them through it.
 */
export function createWsRateLimits(rateLimits: RateLimits, trustProxy: TrustProxy, onRefusedUpgrade?: (refusal: RateLimitRefusal) => void): WsRateLimits {
  const { enabled, websocket: limits } = rateLimits.config;
  const open = new Map<string, number>();
  const perSecond = new RateLimiterMemory({ points: limits.operationsPerSecondPerConnection, duration: 1, keyPrefix: 'ws-ops' });
  const connectionIds = new WeakMap<object, string>();
  let nextId = 0;

  const release = (key: string) => {
    const n = (open.get(key) ?? 1) - 1;
    if (n > 0) open.set(key, n);
    else open.delete(key);
  };

  const refuse = (socket: Duplex, refusal: RateLimitRefusal) => {
    onRefusedUpgrade?.(refusal);
    refuseUpgrade(socket, refusal);
  };

  return {
    admitUpgrade(req, socket, accept) {
      if (!enabled) return accept();
      const address = clientAddress(req, trustProxy);
      const key = addressKey(address);
      const count = open.get(key) ?? 0;
      if (count >= limits.connectionsPerAddress) {
        refuse(socket, {
          rateLimit: 'wsConnectionsPerAddress',
          limit: limits.connectionsPerAddress,
          retryAfterSeconds: CONNECTIONS_RETRY_AFTER_SECONDS,
          message: `Too many open WebSocket connections from this address: at most ${limits.connectionsPerAddress}. Close one, or retry in ${CONNECTIONS_RETRY_AFTER_SECONDS} seconds.`,
        });
        return;
      }
      // Reserved now, synchronously: checking and counting across the await below would let a
      // burst of upgrades all pass the check. The raw socket's close covers every ending (refused
      // here, handshake failed, WebSocket closed), so the slot cannot leak.
      open.set(key, count + 1);
      socket.once('close', () => release(key));
      // Between the upgrade event and the handshake nobody listens for socket errors; a client
      // resetting the connection meanwhile must not become an uncaught exception.
      const onError = () => socket.destroy();
      socket.on('error', onError);
      void rateLimits.takeConnectionAttempt(address).then((refusal) => {
        socket.off('error', onError);
        if (socket.destroyed) return;
        if (refusal) refuse(socket, refusal);
        else accept();
      });
    },
    async checkOperation(connection, inFlight) {
      if (!enabled) return undefined;
      if (inFlight > limits.operationsInFlightPerConnection) {
        return rateLimitedError(
          {
            rateLimit: 'wsOperationsInFlight',
            limit: limits.operationsInFlightPerConnection,
            message: `Too many operations running on this connection: at most ${limits.operationsInFlightPerConnection} subscriptions and unanswered operations. Complete one first.`,
          },
          'ws',
        );
      }
      let id = connectionIds.get(connection);
      if (!id) connectionIds.set(connection, (id = String(++nextId)));
      try {
        await perSecond.consume(id);
        return undefined;
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) return undefined;
        const retry = retryAfterSeconds(e.msBeforeNext);
        return rateLimitedError(
          {
            rateLimit: 'wsOperationsPerSecond',
            limit: limits.operationsPerSecondPerConnection,
            windowSeconds: 1,
            retryAfterSeconds: retry,
            message: `Too many operations on this connection: at most ${limits.operationsPerSecondPerConnection} per second. Retry in ${retry} seconds.`,
          },
          'ws',
        );
      }
    },
    openConnections: () => [...open.values()].reduce((a, b) => a + b, 0),
  };
}

function refuseUpgrade(socket: Duplex, refusal: RateLimitRefusal): void {
  const { message, ...details } = refusal;
  const body = JSON.stringify({ errors: [{ message, extensions: { code: 'RATE_LIMITED', ...details } }] });
  // As ws aborts a handshake: destroy once flushed, so a client that never closes holds nothing.
  socket.once('finish', () => socket.destroy());
  socket.end(
    'HTTP/1.1 429 Too Many Requests\r\n' +
      (refusal.retryAfterSeconds === undefined ? '' : `Retry-After: ${refusal.retryAfterSeconds}\r\n`) +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
