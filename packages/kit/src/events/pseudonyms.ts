/**
 * The id that stands for an erased user where records must stay (payments' financial records,
 * courses' anonymized enrollments and archived courses; docs/privacy.md). It is derived from the
 * pseudonym users sends with `AccountErasureRequested` (contracts.ts), never from the user's id:
 * every service turns the same pseudonym into the same id, so one person's kept records stay
 * grouped across services and across redeliveries, but nothing left in them leads back to the
 * account.
 *
 * A name-based UUID (RFC 9562 version 8 layout over SHA-256), so it fits the `uuid` columns and the
 * contracts' `z.uuid()` wherever a user id went before.
 */
import { createHash } from 'node:crypto';

const NAMESPACE = 'campus:pseudonymous-user:';

export function pseudonymousUserId(pseudonym: string): string {
  const bytes = createHash('sha256').update(NAMESPACE + pseudonym).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8: a custom, name-based UUID
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // the RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Whether an id is one `pseudonymousUserId` made (version 8), not an account's (Prisma's uuid(),
 * version 4): users resolves such an id as an erased person without looking it up.
 */
export function isPseudonymousUserId(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id);
}
