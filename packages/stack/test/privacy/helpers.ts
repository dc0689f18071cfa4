/**
 * What the privacy end-to-end tests share (docs/privacy.md): the operations, a buyer with a paid
 * enrollment, and waiting for a deletion to reach a status (read by an admin: the user's own
 * token dies when the erasure starts).
 */
import { graphql, waitFor } from '@campus/test-kit';
import { checkout, newStudent, settled, waitForEnrollment, type Account } from '../payments-helpers.ts';

export const REQUEST_EXPORT = /* GraphQL */ `mutation($u: ID) { requestDataExport(userId: $u) { export { id status requestedAt readyAt expiresAt document } } }`;
export const DATA_EXPORT = /* GraphQL */ `query($id: ID!) { dataExport(id: $id) { id status requestedAt readyAt expiresAt document } }`;
export const REQUEST_DELETION = /* GraphQL */ `mutation($p: String!) { requestAccountDeletion(input: { password: $p }) { deletion { id status scheduledFor } } }`;
export const CANCEL_DELETION = /* GraphQL */ `mutation($u: ID) { cancelAccountDeletion(userId: $u) { deletion { id status } } }`;
export const DELETIONS = /* GraphQL */ `{ accountDeletions(first: 100) { edges { node { id status completedAt steps { service summary } } } } }`;
export const AUDIT_LOG = /* GraphQL */ `query($f: AuditLogFilter) { auditLog(first: 100, filter: $f) { totalCount edges { node { id seq at service actorId action targetId requestId details } } } }`;

/** newStudent's password (payments-helpers.ts). */
export const STUDENT_PASSWORD = 'correct horse battery';

/** A fresh student who bought `courseId` (pm_card_visa: settles at once) and is enrolled. */
export async function buyer(url: string, courseId: string): Promise<Account & { paymentId: string }> {
  const student = await newStudent(url, 'Privacy Buyer');
  const r = await checkout(url, student, courseId);
  if (!r.data?.checkout) throw new Error(`checkout failed: ${JSON.stringify(r.errors)}`);
  const paymentId: string = r.data.checkout.payment.id;
  await settled(url, student, paymentId, 'SUCCEEDED');
  await waitForEnrollment(url, student, courseId, 'ACTIVE');
  return { ...student, paymentId };
}

/** The deletion `id` once an admin sees it in `status`. */
export function deletionIn(url: string, admin: Account, id: string, status: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const r = await graphql(url, DELETIONS, { token: admin.token });
      const node = r.data?.accountDeletions.edges.map((e: { node: { id: string; status: string } }) => e.node).find((n: { id: string }) => n.id === id);
      return node?.status === status ? node : undefined;
    },
    `deletion ${id} to be ${status}`,
    timeoutMs,
  );
}

/** The export `id`, read by `who`, once READY. */
export function exportReady(url: string, who: Account, id: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const r = await graphql(url, DATA_EXPORT, { token: who.token, variables: { id } });
      return r.data?.dataExport?.status === 'READY' ? r.data.dataExport : undefined;
    },
    `export ${id} to be READY`,
    timeoutMs,
  );
}
