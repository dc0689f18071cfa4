/**
 * One HTTP request with a client-side deadline, from a chosen loopback address, classified for the
 * edge benchmark. node:http rather than fetch: fetch cannot pick the source address, and the
 * benchmark sends each kind of traffic from its own address so that a per-address rate limit
 * refusing the flood does not also refuse the normal traffic (every 127.x.y.z is the loopback
 * interface on Linux).
 */
import { Agent, request } from 'node:http';
import { now } from './clock.ts';

export interface Outcome {
  /** From the request being sent to the last byte of the answer (or the deadline). */
  ms: number;
  /**
   * What happened, one label per kind of answer, for counting:
   *   ok                    HTTP 2xx, JSON without `errors`
   *   CODE[,CODE…]          GraphQL errors by `extensions.code` (sorted, distinct); "+data" when
   *                         the answer also carried data (a partial answer)
   *   HTTP 413 (not JSON)   any answer that is not JSON, by status
   *   timeout               no complete answer before the deadline
   *   connection ECODE      the connection failed (refused, reset)
   *   aborted               cut by the caller (end of an attack phase), not an outcome of the router
   */
  label: string;
  /** Answer size in bytes. */
  bytes: number;
  /** The parsed JSON answer, when asked for and when there was one. */
  body?: unknown;
}

export interface RequestOptions {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  /** Agent bound to a source address (agentFor). */
  agent: Agent;
  timeoutMs: number;
  signal?: AbortSignal;
  keepBody?: boolean;
}

/** A keep-alive agent whose connections leave from `localAddress`. */
export function agentFor(localAddress: string, maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, localAddress } as ConstructorParameters<typeof Agent>[0]);
}

function classify(status: number, text: string): { label: string; body?: unknown } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { label: `HTTP ${status} (not JSON)` };
  }
  const { errors, data } = (body ?? {}) as { errors?: { extensions?: { code?: unknown } }[]; data?: unknown };
  if (Array.isArray(errors) && errors.length) {
    const codes = [...new Set(errors.map((e) => String(e?.extensions?.code ?? 'no code')))].sort().join(',');
    const partial = data && typeof data === 'object' && Object.values(data).some((v) => v !== null);
    return { label: partial ? `${codes} +data` : codes, body };
  }
  if (status < 200 || status >= 300) return { label: `HTTP ${status}`, body };
  return { label: 'ok', body };
}

export function send(o: RequestOptions): Promise<Outcome> {
  const start = now();
  const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  return new Promise((resolve) => {
    let settled = false;
    const finish = (label: string, bytes = 0, body?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      o.signal?.removeEventListener('abort', onAbort);
      resolve({ ms: now() - start, label, bytes, ...(o.keepBody && body !== undefined ? { body } : {}) });
    };
    const req = request(o.url, {
      method: o.method,
      agent: o.agent,
      headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
    });
    // Destroying the socket frees it: a stalled router must not hold the benchmark's connections.
    const deadline = setTimeout(() => {
      finish('timeout');
      req.destroy();
    }, o.timeoutMs);
    const onAbort = () => {
      finish('aborted');
      req.destroy();
    };
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e: NodeJS.ErrnoException) => finish(`connection ${e.code ?? e.message}`));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e: NodeJS.ErrnoException) => finish(`connection ${e.code ?? e.message}`));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const { label, body } = classify(res.statusCode ?? 0, raw.toString('utf8'));
        finish(label, raw.length, body);
      });
    });
    req.end(payload);
  });
}
