/**
 * Bearer-token verification at the edge, for HTTP requests and graphql-ws connection_init alike.
 * A request without a token is anonymous; a request with a bad token is refused (401) rather than
 * silently downgraded to anonymous, so a client learns its token expired or its session ended.
 */
import { viewerFromAuthorization, type TokenVerifier, type Viewer } from '@campus/kit/identity';

/** Refusals of the token are 401; anything else (the session store unreachable: 503) keeps its status. */
export async function authenticate(verify: TokenVerifier, authorization: string | undefined): Promise<Viewer | null> {
  return viewerFromAuthorization(verify, authorization);
}
