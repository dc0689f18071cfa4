/**
 * The services other than the router that may call the courses service, and what each may ask
 * (packages/kit/src/identity/caller-permissions.ts). Payments asks for a course's sale
 * facts at checkout and the buyer's progress at refund time
 * (subgraphs/payments/src/remote/courses-client.ts); lessons, enrollment lists, authoring and
 * every mutation stay the router's. The buyer's own token is forwarded, so the shield still
 * decides what that buyer may see.
 */
import type { CallerPermissions } from '@campus/kit/identity';

export const PAYMENTS_MAY_ASK: CallerPermissions = {
  query: ['_entities'],
  entities: ['Course'],
  fields: {
    Course: ['id', 'title', 'status', 'isFree', 'price', 'instructor', 'viewerEnrollment'],
    Money: ['amount', 'currency'],
    User: ['id'],
    Enrollment: ['status', 'progress'],
    Progress: ['percent'],
  },
};
