import { subgraphCodegenConfig } from '@campus/kit/tooling';

/** Resolver types for the users subgraph; see packages/kit/src/tooling/codegen.ts. */
export default subgraphCodegenConfig({
  User: 'UserModel',
  UserConnection: 'UserConnectionModel',
  SessionEvent: '../live-updates.ts#SessionEventMessage',
});
