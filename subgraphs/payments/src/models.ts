/** What resolvers return for GraphQL types whose shape differs from the generated types (codegen mappers). */
import type { Connection } from '@campus/kit/subgraph';
import type { Payment, Receipt, Refund } from './generated/prisma/client.ts';

export type PaymentModel = Payment;
export type PaymentConnectionModel = Connection<Payment>;
export type RefundModel = Refund;
export type ReceiptModel = Receipt;
/** A User reference: the users service resolves everything but `payments`. */
export interface UserRef {
  id: string;
}
/** A Course reference; `instructor` arrives in the representation when `sales` is asked for (@requires). */
export interface CourseRef {
  id: string;
  instructor?: { id: string } | null;
}
