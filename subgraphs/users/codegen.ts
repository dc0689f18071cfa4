import { subgraphCodegenConfig } from '@campus/kit/codegen';

/** Resolver types for the users subgraph; see packages/kit/src/codegen.ts. */
export default subgraphCodegenConfig({
  User: 'UserModel',
  UserConnection: 'UserConnectionModel',
  SessionEvent: '../session-events.ts#SessionEventMessage',
});
