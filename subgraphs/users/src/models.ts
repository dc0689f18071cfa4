/** What resolvers return for GraphQL types whose shape differs from the generated types (codegen mappers). */
import type { Connection } from '@campus/kit/subgraph';
import type { User } from './generated/prisma/client.ts';

export type UserModel = User;
export type UserConnectionModel = Connection<User>;
