import { subgraphCodegenConfig } from '@campus/kit/codegen';

/** Resolver types for the payments subgraph; see packages/kit/src/codegen.ts. */
export default subgraphCodegenConfig({
  Payment: 'PaymentModel',
  PaymentConnection: 'PaymentConnectionModel',
  Refund: 'RefundModel',
  Receipt: 'ReceiptModel',
  User: 'UserRef',
  Course: 'CourseRef',
});
