/**
 * Account deletion requests (docs/privacy.md): a user asks, with their password, to have their
 * account erased; the erasure starts after a cool-off (ACCOUNT_DELETION_COOL_OFF_SECONDS) during
 * which they can cancel. The erasure itself is erasure.ts.
 *
 * Refusals, each with its own code and nothing written:
 *   - wrong password: BAD_USER_INPUT (field input.password), counted by the login throttle, so a
 *     stolen access token buys no more guesses than the login form (RATE_LIMITED once locked);
 *   - a deletion already SCHEDULED or RUNNING: DELETION_ALREADY_REQUESTED. The row's `openLock`
 *     (the user's id while open, unique) makes this hold for two requests racing each other too;
 *   - a payment of the user's still in flight (open-payments.ts): PAYMENT_IN_FLIGHT;
 *   - cancelling once the erasure started: ERASURE_STARTED.
 */
import { badUserInput, forbidden, notFound, parseInput } from '@campus/kit/core';
import { isUuid } from '@campus/kit/subgraph';
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { checkPasswordThrottled } from './accounts.ts';
import { appendAudit, usersAudit } from './audit-log.ts';
import type { Requester } from './data-export.ts';
import type { UsersDomain } from './domain.ts';
import { Prisma, type AccountDeletion } from './generated/prisma/client.ts';
import { openPaymentCount } from './open-payments.ts';

export const DeletionCode = {
  DELETION_ALREADY_REQUESTED: 'DELETION_ALREADY_REQUESTED',
  PAYMENT_IN_FLIGHT: 'PAYMENT_IN_FLIGHT',
  ERASURE_STARTED: 'ERASURE_STARTED',
} as const;

const refusal = (code: keyof typeof DeletionCode, message: string, extra: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code, ...extra } });

const alreadyRequested = (open: AccountDeletion | null) =>
  refusal(
    'DELETION_ALREADY_REQUESTED',
    open?.status === 'RUNNING'
      ? 'Your account is being erased already.'
      : `Your account is already scheduled for deletion${open ? ` on ${open.scheduledFor.toISOString()}` : ''}. Cancel it first to ask again.`,
    open ? { deletionId: open.id } : {},
  );

const requestInput = z.object({ password: z.string().max(512, 'must be at most 512 characters') });

/** Schedules the erasure of the signed-in user's account after the cool-off. */
export async function requestAccountDeletion(deps: UsersDomain, userId: string, input: unknown, clientIp: string | undefined): Promise<AccountDeletion> {
  const data = parseInput(requestInput, input);
  const account = await deps.prisma.user.findUnique({ where: { id: userId }, select: { email: true } });
  if (!account) throw notFound('User', userId);
  if (!(await checkPasswordThrottled(deps, account.email, data.password, clientIp))) {
    throw badUserInput('input.password', 'input.password: does not match your current password.');
  }
  try {
    return await deps.prisma.$transaction(async (tx) => {
      const open = await tx.accountDeletion.findUnique({ where: { openLock: userId } });
      if (open) throw alreadyRequested(open);
      const inFlight = await openPaymentCount(tx, userId);
      if (inFlight > 0) {
        throw refusal('PAYMENT_IN_FLIGHT', 'A payment of yours is still being processed. Ask again once it has succeeded or failed.', { payments: inFlight });
      }
      const deletion = await tx.accountDeletion.create({
        data: { userId, openLock: userId, scheduledFor: new Date(Date.now() + deps.privacy.coolOffSeconds * 1000) },
      });
      await appendAudit(tx, usersAudit(userId, 'users.account-deletion.request', userId, { deletionId: deletion.id, scheduledFor: deletion.scheduledFor.toISOString() }));
      return deletion;
    });
  } catch (e) {
    // Another request of the same user committed first.
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') throw alreadyRequested(null);
    throw e;
  }
}

/**
 * Cancels the user's scheduled deletion (the requester's own; admins may name another user). The
 * latest deletion decides: SCHEDULED is cancelled, RUNNING or COMPLETED is ERASURE_STARTED, none
 * (or a cancelled one) is NOT_FOUND. The row is locked, so a cancel racing the erasure's start
 * (erasure.ts claims the same row) either cancels it or sees it started.
 */
export async function cancelAccountDeletion(deps: UsersDomain, requester: Requester, userId?: string | null): Promise<AccountDeletion> {
  const target = userId ?? requester.id;
  if (target !== requester.id && requester.role !== 'ADMIN') {
    throw forbidden("Only admins can cancel another user's account deletion. Leave userId out to cancel your own.");
  }
  if (!isUuid(target)) throw notFound('Account deletion of user', target);
  return deps.prisma.$transaction(async (tx) => {
    const [latest] = await tx.$queryRaw<{ id: string }[]>`
      SELECT "id"::text AS "id" FROM "AccountDeletion" WHERE "userId" = ${target}::uuid
       ORDER BY "requestedAt" DESC, "id" DESC LIMIT 1 FOR UPDATE`;
    const deletion = latest && (await tx.accountDeletion.findUniqueOrThrow({ where: { id: latest.id } }));
    if (!deletion || deletion.status === 'CANCELLED') throw notFound('A scheduled account deletion');
    if (deletion.status !== 'SCHEDULED') {
      throw refusal(
        'ERASURE_STARTED',
        deletion.status === 'COMPLETED' ? 'This account was erased already; nothing can be cancelled.' : 'The erasure has started and cannot be stopped.',
        { deletionId: deletion.id, status: deletion.status },
      );
    }
    const cancelled = await tx.accountDeletion.update({
      where: { id: deletion.id },
      data: { status: 'CANCELLED', cancelledAt: new Date(), openLock: null },
    });
    await appendAudit(tx, usersAudit(requester.id, 'users.account-deletion.cancel', target, { deletionId: deletion.id }));
    return cancelled;
  });
}
