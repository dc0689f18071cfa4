/** Every DataLoader of the payments service; created per request in createContext, never shared. */
import { groupByKeys, loaderBatches, orderByKeys, uuidKeys, type Page } from '@campus/kit/subgraph';
import DataLoader from 'dataloader';
import type { Payment, PrismaClient, Receipt, Refund } from './generated/prisma/client.ts';

export interface SalesFigures {
  count: number;
  refundedCount: number;
  revenue: { amount: number; currency: string }[];
}

export interface PaymentsPageKey {
  userId: string;
  page: Page;
}

export function createLoaders(prisma: PrismaClient) {
  // Each batch counted under its key below (campus_dataloader_*, packages/kit/src/subgraph/loaders.ts).
  const counted = loaderBatches(prisma);
  return {
    /** One `_entities` request with N payment representations is one SQL statement. */
    paymentById: new DataLoader<string, Payment | null>(counted('paymentById', async (ids) => {
      const valid = uuidKeys(ids);
      const rows = valid.length ? await prisma.payment.findMany({ where: { id: { in: valid } } }) : [];
      return orderByKeys(ids, rows, (p) => p.id);
    })),

    receiptByPayment: new DataLoader<string, Receipt | null>(counted('receiptByPayment', async (paymentIds) => {
      const rows = await prisma.receipt.findMany({ where: { paymentId: { in: uuidKeys(paymentIds) } } });
      return orderByKeys(paymentIds, rows, (r) => r.paymentId);
    })),

    /** The most recent refund of each payment. */
    latestRefundByPayment: new DataLoader<string, Refund | null>(counted('latestRefundByPayment', async (paymentIds) => {
      const rows = await prisma.refund.findMany({
        where: { paymentId: { in: uuidKeys(paymentIds) } },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        distinct: ['paymentId'],
      });
      return orderByKeys(paymentIds, rows, (r) => r.paymentId);
    })),

    /** Sales of N courses in one grouped query. */
    salesByCourse: new DataLoader<string, SalesFigures>(counted('salesByCourse', async (courseIds) => {
      const groups = await prisma.payment.groupBy({
        by: ['courseId', 'status', 'currency'],
        where: { courseId: { in: uuidKeys(courseIds) }, status: { in: ['SUCCEEDED', 'REFUNDED'] } },
        _count: { _all: true },
        _sum: { amount: true },
      });
      return groupByKeys(courseIds, groups, (g) => g.courseId).map((rows) => ({
        count: rows.filter((r) => r.status === 'SUCCEEDED').reduce((n, r) => n + r._count._all, 0),
        refundedCount: rows.filter((r) => r.status === 'REFUNDED').reduce((n, r) => n + r._count._all, 0),
        revenue: rows
          .filter((r) => r.status === 'SUCCEEDED')
          .map((r) => ({ amount: r._sum.amount ?? 0, currency: r.currency }))
          .sort((a, b) => a.currency.localeCompare(b.currency)),
      }));
    })),

    /**
     * One page of each user's payments, newest first, in one statement however many users are
     * asked for (an admin listing users with their payments): a window function numbers each
     * user's payments, and the page is a range of those numbers. Fetches take + 1 to tell whether
     * a next page exists.
     */
    paymentsPage: new DataLoader<PaymentsPageKey, Payment[], string>(
      counted('paymentsPage', async (keys) => {
        const byPage = new Map<string, PaymentsPageKey[]>();
        for (const k of keys) {
          const id = `${k.page.skip}:${k.page.take}`;
          byPage.set(id, [...(byPage.get(id) ?? []), k]);
        }
        const results = new Map<string, Payment[]>();
        for (const group of byPage.values()) {
          const { skip, take } = group[0]!.page;
          const users = uuidKeys(group.map((k) => k.userId));
          const ids = users.length
            ? await prisma.$queryRaw<{ id: string; userId: string }[]>`
                SELECT "id"::text AS "id", "userId"::text AS "userId" FROM (
                  SELECT "id", "userId", row_number() OVER (PARTITION BY "userId" ORDER BY "createdAt" DESC, "id" DESC) AS n
                  FROM "Payment" WHERE "userId"::text = ANY(${users})
                ) ranked WHERE n > ${skip} AND n <= ${skip + take + 1} ORDER BY "userId", n`
            : [];
          const rows = ids.length ? await prisma.payment.findMany({ where: { id: { in: ids.map((r) => r.id) } } }) : [];
          const byId = new Map(rows.map((r) => [r.id, r]));
          for (const k of group) {
            results.set(pageKey(k), ids.filter((r) => r.userId === k.userId).map((r) => byId.get(r.id)!).filter(Boolean));
          }
        }
        return keys.map((k) => results.get(pageKey(k)) ?? []);
      }),
      { cacheKeyFn: (k) => pageKey(k) },
    ),

    paymentCountByUser: new DataLoader<string, number>(counted('paymentCountByUser', async (userIds) => {
      const groups = await prisma.payment.groupBy({ by: ['userId'], where: { userId: { in: uuidKeys(userIds) } }, _count: { _all: true } });
      return userIds.map((id) => groups.find((g) => g.userId === id)?._count._all ?? 0);
    })),
  };
}

const pageKey = (k: PaymentsPageKey) => `${k.userId}:${k.page.skip}:${k.page.take}`;

export type Loaders = ReturnType<typeof createLoaders>;
