/**
 * One Fetch node: the gateway's `executeFetch` (node_modules/@apollo/gateway/dist/executeQueryPlan.js)
 * for fetches without rewrites (those run on the gateway's executor, plan-support.ts). A root
 * fetch's answer is merged into the data at its position; an entity fetch sends one representation
 * per entity there (representations.ts) and merges each returned entity into its own. The
 * subgraph's errors join the request's, with the client's paths (subgraph-errors.ts); what the
 * gateway throws here (an `_entities` of the wrong length, a missing data source) the caller
 * records as an error of the request, as the gateway does.
 */
import type { GraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { GraphQLError } from 'graphql';
import type { FetchNode } from '../federation-adapter.mjs';
import type { RouterContext } from '../../context.ts';
import { deepMerge } from './deep-merge.ts';
import { representationOf, type TypeConditions } from './representations.ts';
import { downstreamServiceError, lazyErrorPath, type Cursor } from './subgraph-errors.ts';

type DataObject = Record<string, unknown>;

/** GraphQLDataSourceRequestKind.INCOMING_OPERATION, which @apollo/gateway does not export: a fetch of a client's operation. */
const INCOMING_OPERATION = 'incoming operation';

/** What a request's fetches share: its data sources, its context, the errors gathered so far. */
export interface FetchRun {
  serviceMap: Readonly<Record<string, GraphQLDataSource<RouterContext>>>;
  requestContext: GatewayGraphQLRequestContext<RouterContext>;
  types: TypeConditions;
  /** Representations may be plain objects (representations.ts, plainRepresentations): decided per plan. */
  plainRepresentations: boolean;
  errors: (GraphQLError | Error)[];
}

export async function executeFetch(run: FetchRun, fetch: FetchNode, cursor: Cursor): Promise<void> {
  const service = run.serviceMap[fetch.serviceName];
  if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
  const entities = Array.isArray(cursor.data) ? cursor.data.filter((e) => e !== null && e !== undefined) : [cursor.data];
  if (entities.length < 1) return;
  const variables = Object.create(null) as DataObject;
  if (fetch.variableUsages) {
    const provided = run.requestContext.request.variables;
    for (const name of fetch.variableUsages) {
      if (provided && Object.prototype.hasOwnProperty.call(provided, name) && typeof provided[name] !== 'undefined') variables[name] = provided[name];
    }
  }
  if (!fetch.requires) {
    const received = await send(run, service, fetch, cursor, variables);
    for (const entity of entities) deepMerge(entity as DataObject, received);
    return;
  }
  const representations: DataObject[] = [];
  const representationToEntity: number[] = [];
  for (let index = 0; index < entities.length; index++) {
    const representation = representationOf(run.types, entities[index], fetch.requires, run.plainRepresentations);
    if (representation && representation.__typename) {
      representations.push(representation);
      representationToEntity.push(index);
    }
  }
  if (representations.length < 1) return;
  if ('representations' in variables) throw new Error(`Variables cannot contain key "representations"`);
  const received = await send(run, service, fetch, cursor, { ...variables, representations });
  if (!received) return;
  const receivedEntities = received._entities;
  if (!(receivedEntities && Array.isArray(receivedEntities))) throw new Error(`Expected "data._entities" in response to be an array`);
  if (receivedEntities.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  for (let i = 0; i < representations.length; i++) {
    const receivedEntity = receivedEntities[i] as DataObject | null | undefined;
    const existingEntity = entities[representationToEntity[i]!] as DataObject;
    if (receivedEntity && !receivedEntity.__typename) receivedEntity.__typename = existingEntity.__typename;
    deepMerge(existingEntity, receivedEntity);
  }
}

async function send(run: FetchRun, service: GraphQLDataSource<RouterContext>, fetch: FetchNode, cursor: Cursor, variables: DataObject): Promise<DataObject | null | undefined> {
  const requestContext = run.requestContext;
  const response = await service.process({
    kind: INCOMING_OPERATION,
    // `http` present and undefined, as the gateway sends it when it does not ask for traces.
    request: { query: fetch.operation, variables, operationName: fetch.operationName, http: undefined },
    incomingRequestContext: requestContext,
    context: requestContext.context,
    document: fetch.operationDocumentNode,
    pathInIncomingRequest: cursor.path,
  } as unknown as Parameters<GraphQLDataSource<RouterContext>['process']>[0]);
  if (response.errors) {
    const errorPath = lazyErrorPath(!!fetch.requires, cursor);
    run.errors.push(...response.errors.map((error) => downstreamServiceError(error, fetch.serviceName, errorPath)));
    if (!response.extensions?.ftv1) {
      const errorPaths = response.errors.map((error) => ({ subgraph: fetch.serviceName, path: error.path }));
      // As the gateway: read without a guard, so a request context without metrics fails here as it does there.
      const metrics = requestContext.metrics as { nonFtv1ErrorPaths?: unknown[] };
      if (metrics.nonFtv1ErrorPaths) metrics.nonFtv1ErrorPaths.push(...errorPaths);
      else metrics.nonFtv1ErrorPaths = errorPaths;
    }
  }
  return response.data as DataObject | null | undefined;
}
