/**
 * A subgraph's GraphQL errors as the client sees them: the gateway's `downstreamServiceError` and
 * error paths (node_modules/@apollo/gateway/dist/executeQueryPlan.js). The message is kept (or one
 * naming the subgraph when it has none), `extensions` gain `serviceName`, the code is the
 * subgraph's own or DOWNSTREAM_SERVICE_ERROR, and the path is moved from the subgraph's answer into
 * the client's: below the fetch's position for a root fetch, and for an entity fetch from
 * `_entities.<index>` to that entity's place in the response.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ERRORS, errorCodeDef } from '../federation-adapter.mjs';

export type ResponsePath = (string | number)[];
type ErrorPath = GraphQLFormattedError['path'];

export interface Cursor {
  /** The plan's path to here ('@' for each list crossed). */
  path: ResponsePath;
  data: unknown;
  fullResult: Record<string, unknown>;
}

export function downstreamServiceError(originalError: GraphQLFormattedError, serviceName: string, errorPath: (path: ErrorPath) => ResponsePath | undefined): GraphQLError {
  let { message } = originalError;
  const { extensions } = originalError;
  if (!message) message = `Error while fetching subquery from service "${serviceName}"`;
  const options = {
    originalError: originalError as Error,
    path: errorPath(originalError.path),
    extensions: { ...extensions, serviceName },
  };
  const codeDef = errorCodeDef(originalError as GraphQLError);
  if (!codeDef && extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

/** The client-side path of an error in a fetch's answer; entity positions are worked out only if one is asked for. */
export function lazyErrorPath(hasRequires: boolean, cursor: Cursor): (path: ErrorPath) => ResponsePath | undefined {
  let hydrated: ResponsePath[] | undefined;
  return (errorPath) => {
    if (hasRequires && typeof errorPath?.[1] === 'number') {
      if (!hydrated) {
        hydrated = [];
        hydratePaths([], cursor.path, cursor.fullResult, hydrated);
      }
      return [...(hydrated[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath.slice()] : undefined;
  };
}

/** Every concrete response path the plan path `path` reaches in `data`, in order (the gateway's generateHydratedPaths). */
function hydratePaths(parent: ResponsePath, path: ResponsePath, data: unknown, result: ResponsePath[]): void {
  const head = path[0];
  if (data == null) return;
  if (head == null) {
    result.push(parent.slice());
  } else if (head === '@') {
    if (!Array.isArray(data)) throw new Error('expected array when encountering `@`');
    for (const [i, value] of data.entries()) {
      parent.push(i);
      hydratePaths(parent, path.slice(1), value, result);
      parent.pop();
    }
  } else if (typeof head === 'string') {
    if (Array.isArray(data)) {
      for (const [i, value] of data.entries()) {
        parent.push(i);
        hydratePaths(parent, path, value, result);
        parent.pop();
      }
    } else if (Object.prototype.hasOwnProperty.call(data, head)) {
      parent.push(head);
      hydratePaths(parent, path.slice(1), (data as Record<string, unknown>)[head], result);
      parent.pop();
    }
  } else {
    throw new Error(`unknown path part "${head}"`);
  }
}
