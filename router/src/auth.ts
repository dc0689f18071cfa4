/**
 * Bearer-token verification at the edge, for HTTP requests and graphql-ws connection_init alike.
 * A request without a token is anonymous; a request with a bad token is refused (401) rather than
 * silently downgraded to anonymous, so a client learns its token expired.
 */
import { GraphQLError } from 'graphql';
import { viewerFromAuthorization, type TokenVerifier, type Viewer } from '@campus/kit';

export async function authenticate(verify: TokenVerifier, authorization: string | undefined): Promise<Viewer | null> {
  try {
    return await viewerFromAuthorization(verify, authorization);
  } catch (e) {
    if (e instanceof GraphQLError) {
      throw new GraphQLError(e.message, { extensions: { ...e.extensions, http: { status: 401 } } });
    }
    throw e;
  }
}
