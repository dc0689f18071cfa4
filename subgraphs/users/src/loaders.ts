/** Every DataLoader of the users service; created per request in createContext, never shared. */
import { orderByKeys, uuidKeys } from '@campus/kit/subgraph';
import DataLoader from 'dataloader';
import type { PrismaClient, User } from './generated/prisma/client.ts';

export function createLoaders(prisma: PrismaClient) {
  return {
    /** One `_entities` request with N user representations is one SQL statement. */
    userById: new DataLoader<string, User | null>(async (ids) => {
      const valid = uuidKeys(ids);
      const rows = valid.length ? await prisma.user.findMany({ where: { id: { in: valid } } }) : [];
      return orderByKeys(ids, rows, (u) => u.id);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
