/** Every DataLoader of the users service; created per request in createContext, never shared. */
import { loaderBatches, orderByKeys, uuidKeys } from '@campus/kit/subgraph';
import DataLoader from 'dataloader';
import type { AccountDeletionStep, PrismaClient, User } from './generated/prisma/client.ts';

export function createLoaders(prisma: PrismaClient) {
  // Each batch counted under its key below (campus_dataloader_*, packages/kit/src/subgraph/loaders.ts).
  const counted = loaderBatches(prisma);
  return {
    /** One `_entities` request with N user representations is one SQL statement. */
    userById: new DataLoader<string, User | null>(counted('userById', async (ids) => {
      const valid = uuidKeys(ids);
      const rows = valid.length ? await prisma.user.findMany({ where: { id: { in: valid } } }) : [];
      return orderByKeys(ids, rows, (u) => u.id);
    })),
    /** The erasure steps of a page of account deletions, in the order they finished: one statement. */
    stepsByDeletion: new DataLoader<string, AccountDeletionStep[]>(counted('stepsByDeletion', async (ids) => {
      const valid = uuidKeys(ids);
      const rows = valid.length ? await prisma.accountDeletionStep.findMany({ where: { deletionId: { in: valid } }, orderBy: { completedAt: 'asc' } }) : [];
      return ids.map((id) => rows.filter((r) => r.deletionId === id));
    })),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
