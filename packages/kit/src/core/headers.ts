/** Header names the router and the subgraphs agree on. */
export const Headers = {
  requestId: 'x-request-id',
  authorization: 'authorization',
  /** The end client's address, as the router saw it (subgraphs only see the router's). */
  clientIp: 'x-campus-client-ip',
  /** Who sent a request between services: a JWS signed with the caller's own key (service-identity/). */
  serviceSignature: 'x-campus-signature',
  /** W3C Trace Context (core/tracing.ts); the router's signature covers traceparent. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
