/** Every DataLoader of the users service; created per request in createContext, never shared. */
import { orderByKeys } from '@campus/kit/subgraph';
import DataLoader from 'dataloader';
import type { PrismaClient, User } from './generated/prisma/client.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createLoaders(prisma: PrismaClient) {
  return {
    /** One `_entities` request with N user representations is one SQL statement. */
    userById: new DataLoader<string, User | null>(async (ids) => {
      // Ids that cannot be UUIDs cannot exist; asking PostgreSQL would be an error, not a miss.
      const valid = ids.filter((id) => UUID.test(id));
      const rows = valid.length ? await prisma.user.findMany({ where: { id: { in: valid } } }) : [];
      return orderByKeys(ids, rows, (u) => u.id);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
