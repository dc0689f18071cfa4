/**
 * What the payments service's domain functions (checkout.ts, refunds.ts) work with: built once per
 * service in service.ts, reached by resolvers as `ctx.domain`.
 */
import type { CheckoutDeps } from './checkout.ts';
import type { RefundDeps } from './refunds.ts';

export interface PaymentsDomain {
  checkout: CheckoutDeps;
  refunds: RefundDeps;
}
