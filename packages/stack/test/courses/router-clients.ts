/** Accounts for the end-to-end tests, made the way clients make them: through the router. */
import { randomUUID } from 'node:crypto';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '@campus/kit/core';
import type { Role } from '@campus/kit/identity';
import { graphql, logIn } from '@campus/test-kit';

export interface Account {
  id: string;
  name: string;
  token: string;
}

export async function logInAs(routerUrl: string, role: Role): Promise<Account> {
  const account = DEMO_ACCOUNTS.find((a) => a.role === role)!;
  const session = await logIn(routerUrl, account.email, DEMO_PASSWORD);
  return { id: session.user.id, name: account.name, token: session.accessToken };
}

/** A new account with `role`: signs up (STUDENT), is promoted by an admin if needed, logs in again. */
export async function newAccount(routerUrl: string, role: Role, admin: Account): Promise<Account> {
  const email = `e2e-${randomUUID()}@campus.test`;
  const password = 'correct horse battery';
  const name = `E2E ${role.toLowerCase()}`;
  const up = await graphql(routerUrl, `mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }`, {
    variables: { input: { email, password, name } },
  });
  if (!up.data?.signUp) throw new Error(`signUp failed: ${JSON.stringify(up.errors)}`);
  if (role !== 'STUDENT') {
    const set = await graphql(routerUrl, `mutation($input: SetUserRoleInput!) { setUserRole(input: $input) { user { role } } }`, {
      token: admin.token,
      variables: { input: { userId: up.data.signUp.user.id, role } },
    });
    if (set.data?.setUserRole?.user.role !== role) throw new Error(`setUserRole failed: ${JSON.stringify(set.errors)}`);
  }
  const session = await logIn(routerUrl, email, password);
  return { id: session.user.id, name, token: session.accessToken };
}
