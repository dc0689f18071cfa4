/**
 * The buyer's name and email for the receipt, read from the users service at checkout with the
 * buyer's own token (a user may read their own email) and frozen into the payment.
 */
import type { SubgraphClient } from './subgraph-client.ts';

export interface BuyerSnapshot {
  name: string;
  email: string | null;
}

const BUYER = /* GraphQL */ `
  query PaymentsBuyer($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on User { id name email }
    }
  }
`;

export interface UsersClient {
  buyer(userId: string, authorization: string | undefined): Promise<BuyerSnapshot | null>;
}

export function usersClient(call: SubgraphClient): UsersClient {
  return {
    async buyer(userId, authorization) {
      const reply = await call<{ _entities: ({ id: string; name: string; email: string | null } | null)[] }>(
        BUYER,
        { representations: [{ __typename: 'User', id: userId }] },
        authorization,
      );
      const user = reply.data?._entities?.[0];
      return user ? { name: user.name, email: user.email ?? null } : null;
    },
  };
}
