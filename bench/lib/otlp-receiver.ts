/**
 * A stand-in for an OpenTelemetry collector: accepts OTLP/HTTP exports (POST /v1/traces, protobuf
 * or JSON) and answers them at once with an empty success, counting what arrived. The tracing
 * overhead measured against it is the services' own (building, batching and sending spans),
 * without a real collector's CPU on the same two cores.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpReceiver {
  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT (the exporters add /v1/traces). */
  endpoint: string;
  /** Export requests and body bytes received so far, on /v1/traces and on any other path. */
  received(): { exports: number; bytes: number; otherPaths: number };
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  let exports = 0;
  let bytes = 0;
  let otherPaths = 0;
  const server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        exports += 1;
        bytes += size;
        // An empty ExportTraceServiceResponse: no partial_success, so the exporter counts it done.
        const json = (req.headers['content-type'] ?? '').includes('json');
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
      } else {
        otherPaths += 1;
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => ({ exports, bytes, otherPaths }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
