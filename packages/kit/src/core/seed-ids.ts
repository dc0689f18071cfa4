/**
 * Deterministic ids for demo and benchmark data. Each service seeds its own database, yet the
 * courses seed must name instructors and students that the users seed created: both derive the
 * same UUID (version 5 style, SHA-1 over a fixed namespace) from the same name.
 */
import { createHash } from 'node:crypto';

export function seedUuid(name: string): string {
  const h = createHash('sha1').update(`campus-seed:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const DEMO_PASSWORD = 'campus-demo';

export const DEMO_ACCOUNTS = [
  { id: seedUuid('user:admin'), email: 'admin@campus.test', name: 'Ada Admin', role: 'ADMIN' },
  { id: seedUuid('user:instructor'), email: 'instructor@campus.test', name: 'Ian Instructor', role: 'INSTRUCTOR' },
  { id: seedUuid('user:student'), email: 'student@campus.test', name: 'Sam Student', role: 'STUDENT' },
] as const;

/** How much demo data to seed. `scale` 1 is the demo; benchmarks pass larger values. */
export interface SeedSize {
  instructors: number;
  students: number;
}

export function seedSize(scale = 1): SeedSize {
  return { instructors: Math.max(1, Math.round(8 * scale)), students: Math.max(1, Math.round(300 * scale)) };
}

export const seededInstructorId = (i: number) => (i === 0 ? DEMO_ACCOUNTS[1].id : seedUuid(`user:instructor:${i}`));
export const seededStudentId = (i: number) => (i === 0 ? DEMO_ACCOUNTS[2].id : seedUuid(`user:student:${i}`));
