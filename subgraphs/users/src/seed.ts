/**
 * Demo data for the users service: the three demo accounts (admin, instructor, student, password
 * "campus-demo") plus generated instructors and students that the courses seed enrolls and assigns.
 * Ids, names and emails come from the kit's shared demo plan (packages/kit/src/core/seed-plan.ts),
 * which the other services' seeds use too. Idempotent: running it twice changes nothing.
 */
import { DEMO_ACCOUNTS, DEMO_PASSWORD, seededInstructorProfile, seededStudentProfile, seedSize, type SeedSize } from '@campus/kit/core';
import type { SeedCounts } from '@campus/kit/subgraph';
import { PrismaClient } from './generated/prisma/client.ts';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { hashPassword } from './passwords.ts';

export async function seedUsers(prisma: PrismaClient, size: SeedSize): Promise<{ created: number }> {
  // One hash for every demo account: Argon2id is deliberately slow, and they share a password anyway.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const rows = [
    ...DEMO_ACCOUNTS.map((a) => ({ ...a })),
    ...Array.from({ length: size.instructors - 1 }, (_, k) => ({ ...seededInstructorProfile(k + 1), role: 'INSTRUCTOR' as const })),
    ...Array.from({ length: size.students - 1 }, (_, k) => ({ ...seededStudentProfile(k + 1), role: 'STUDENT' as const })),
  ];
  const { count } = await prisma.user.createMany({
    data: rows.map((r) => ({ ...r, passwordHash })),
    skipDuplicates: true,
  });
  return { created: count };
}

/** The embedded default's first start: seeds only a database without users. */
export async function seedIfEmpty(prisma: PrismaClient, scale: number): Promise<SeedCounts | null> {
  if ((await prisma.user.count()) > 0) return null;
  return { users: (await seedUsers(prisma, seedSize(scale))).created };
}

/** On a bare (migrated) database: npm run db:seed and the process stack. */
export async function seed(adapter: SqlDriverAdapterFactory, scale: number): Promise<SeedCounts> {
  const prisma = new PrismaClient({ adapter });
  try {
    return { users: (await seedUsers(prisma, seedSize(scale))).created };
  } finally {
    await prisma.$disconnect();
  }
}
