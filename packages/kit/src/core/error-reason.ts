/**
 * errorReason(err): one line saying why something failed, for a log line or a readiness answer.
 * An error's message alone is often not enough: Node's `fetch` says only "fetch failed" and keeps
 * the socket's reason in `cause`, and a connection to a name with several addresses (localhost:
 * ::1 and 127.0.0.1) fails with an AggregateError whose own message is empty.
 */
export function errorReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const parts: string[] = [];
  if (err.message) parts.push(err.message);
  if (err instanceof AggregateError) {
    const inner = [...new Set(err.errors.map(errorReason))].filter(Boolean);
    if (inner.length) parts.push(inner.join('; '));
  }
  if (err.cause !== undefined && err.cause !== err) {
    const cause = errorReason(err.cause);
    if (cause && !parts.some((part) => part.includes(cause))) parts.push(cause);
  }
  if (!parts.length) parts.push((err as { code?: string }).code ?? err.name);
  return parts.join(': ');
}
