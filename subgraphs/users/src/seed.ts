/**
 * Demo data for the users service: the three demo accounts (admin, instructor, student, password
 * "campus-demo") plus generated instructors and students that the courses seed enrolls and assigns.
 * Idempotent: running it twice changes nothing.
 */
import { DEMO_ACCOUNTS, DEMO_PASSWORD, seededInstructorId, seededStudentId, seedSize, type SeedSize } from '@campus/kit/core';
import { PrismaClient } from './generated/prisma/client.ts';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { hashPassword } from './passwords.ts';

const FIRST = ['Alex', 'Bea', 'Chen', 'Dana', 'Emeka', 'Farah', 'Goro', 'Hana', 'Ivan', 'Jia', 'Kofi', 'Lena', 'Mateo', 'Nia', 'Omar', 'Priya'];
const LAST = ['Okafor', 'Schmidt', 'Tanaka', 'Silva', 'Novak', 'Haddad', 'Kim', 'Rossi', 'Dubois', 'Singh', 'Larsen', 'Moreau'];
const personName = (i: number) => `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}`;

/**
 * Name and email of seeded student `i` (0 = the demo student) as seedUsers writes them, for seeds
 * of other services that snapshot a buyer (payments' receipts) without reading this database.
 */
export function seededStudentProfile(i: number): { name: string; email: string } {
  if (i === 0) return { name: DEMO_ACCOUNTS[2].name, email: DEMO_ACCOUNTS[2].email };
  return { name: personName(i - 1), email: `student${i}@campus.test` };
}

export async function seedUsers(prisma: PrismaClient, size: SeedSize): Promise<{ created: number }> {
  // One hash for every demo account: Argon2id is deliberately slow, and they share a password anyway.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const rows = [
    ...DEMO_ACCOUNTS.map((a) => ({ ...a })),
    ...Array.from({ length: size.instructors - 1 }, (_, k) => ({
      id: seededInstructorId(k + 1),
      email: `instructor${k + 1}@campus.test`,
      name: personName(k * 7 + 3),
      role: 'INSTRUCTOR' as const,
    })),
    ...Array.from({ length: size.students - 1 }, (_, k) => ({
      id: seededStudentId(k + 1),
      email: `student${k + 1}@campus.test`,
      name: personName(k),
      role: 'STUDENT' as const,
    })),
  ];
  const { count } = await prisma.user.createMany({
    data: rows.map((r) => ({ ...r, passwordHash })),
    skipDuplicates: true,
  });
  return { created: count };
}

/** The uniform entry every prisma/<service>/seed.ts exports (npm run db:seed, the embedded stack). */
export async function seed(adapter: SqlDriverAdapterFactory, scale: number): Promise<Record<string, number>> {
  const prisma = new PrismaClient({ adapter });
  try {
    return { users: (await seedUsers(prisma, seedSize(scale))).created };
  } finally {
    await prisma.$disconnect();
  }
}
