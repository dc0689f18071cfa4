/**
 * Password hashing with Argon2id at OWASP's recommended minimum (19 MiB, t=2, p=1). The binding's
 * default algorithm is Argon2id; the hash string records the parameters, so raising them later
 * keeps old hashes verifiable.
 */
import { hash, verify } from '@node-rs/argon2';

const PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => hash(password, PARAMS);

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * A real hash of nothing anyone knows, verified when the email is unknown, so a failed login takes
 * as long for a missing account as for a wrong password (no account enumeration by timing).
 */
let decoy: Promise<string> | undefined;
export const decoyHash = () => (decoy ??= hashPassword(`decoy-${Math.random()}`));

/**
 * The password checks of one service instance, counted: the count is how tests show that login
 * throttling bounds Argon2 work however many attempts arrive at once
 * (packages/stack/test/users/login-throttle.e2e.test.ts), and what an operator would export as a metric.
 */
export interface PasswordVerifier {
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** How many passwords this instance has checked (against a real or the decoy hash). */
  verifications(): number;
}

export function createPasswordVerifier(): PasswordVerifier {
  let count = 0;
  return {
    verify(passwordHash, password) {
      count += 1;
      return verifyPassword(passwordHash, password);
    },
    verifications: () => count,
  };
}
