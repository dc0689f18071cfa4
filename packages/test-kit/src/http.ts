/** GraphQL over HTTP, as a client (or, signed, the router) sends it. */

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface RequestOptions {
  variables?: Record<string, unknown>;
  token?: string | undefined;
  headers?: Record<string, string>;
}

/** POSTs a GraphQL operation to `url` (the router, normally). */
export async function graphql<T = any>(url: string, query: string, options: RequestOptions = {}): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: res.status, headers: res.headers, ...body };
}

/** POSTs exactly this body with these headers (a signed request, perhaps for the second time). */
export async function postRaw<T = any>(url: string, request: { body: string; headers: Record<string, string> }): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  const reply = (await res.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: res.status, headers: res.headers, ...reply };
}

/** The first error's code, or undefined. */
export const errorCode = (r: GraphQLResponse) => r.errors?.[0]?.extensions?.code as string | undefined;

/** Fails the test with the response's errors instead of a bare "undefined" later. */
export function ok<T = any>(response: GraphQLResponse<T>): T {
  if (response.errors?.length || !response.data) throw new Error(`unexpected errors: ${JSON.stringify(response.errors)}`);
  return response.data;
}

export const LOG_IN = /* GraphQL */ `
  mutation LogIn($input: LogInInput!) {
    logIn(input: $input) { accessToken refreshToken user { id email role } }
  }
`;

/** Logs in through the router (or the users subgraph) and returns the session. */
export async function logIn(routerUrl: string, email: string, password: string) {
  const r = await graphql(routerUrl, LOG_IN, { variables: { input: { email, password } } });
  if (!r.data?.logIn) throw new Error(`logIn ${email} failed: ${JSON.stringify(r.errors)}`);
  return r.data.logIn as { accessToken: string; refreshToken: string; user: { id: string; email: string; role: string } };
}
