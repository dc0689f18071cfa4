/**
 * The services other than the router that may call the users service, and what each may ask
 * (packages/kit/src/identity/caller-permissions.ts). Payments reads the buyer's name and
 * email for the receipt (subgraphs/payments/src/remote/users-client.ts) and nothing else; the
 * buyer's own token is forwarded, so the shield still decides whether the email is visible.
 */
import type { CallerPermissions } from '@campus/kit/identity';

export const PAYMENTS_MAY_ASK: CallerPermissions = {
  query: ['_entities'],
  entities: ['User'],
  fields: { User: ['id', 'name', 'email'] },
};
