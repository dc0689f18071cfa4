import { subgraphCodegenConfig } from '@campus/kit/tooling';

/** Resolver types for the payments subgraph; see packages/kit/src/tooling/codegen.ts. */
export default subgraphCodegenConfig({
  Payment: 'PaymentModel',
  PaymentConnection: 'PaymentConnectionModel',
  Refund: 'RefundModel',
  Receipt: 'ReceiptModel',
  User: 'UserRef',
  Course: 'CourseRef',
});
