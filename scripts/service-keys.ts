/**
 * npm run service-keys -- generate            a new Ed25519 private key (PKCS#8 PEM), for
 *                                             ROUTER_SIGNING_KEYS or PAYMENTS_SIGNING_KEYS
 * npm run service-keys -- jwks KEY.pem ...    the JWKS publishing those keys' public halves, for
 *                                             ROUTER_JWKS or PAYMENTS_JWKS when keys are
 *                                             distributed by configuration instead of by URL
 * docs/identity/service-identity.md has the whole procedure, rotation included.
 */
import { readFileSync } from 'node:fs';
import { generateServiceKeyPem, publicJwks, signingKeysProblem, splitPemBlocks } from '@campus/kit/identity';

const [command, ...files] = process.argv.slice(2);
if (command === 'generate') {
  process.stdout.write(generateServiceKeyPem());
} else if (command === 'jwks' && files.length > 0) {
  const value = files.map((f) => readFileSync(f, 'utf8')).join('\n');
  const problem = signingKeysProblem(value);
  if (problem) {
    console.error(`service-keys: ${problem}`);
    process.exit(1);
  }
  console.log(JSON.stringify(publicJwks(splitPemBlocks(value))));
} else {
  console.error('usage: npm run service-keys -- generate | jwks KEY.pem [NEXT.pem ...]');
  process.exit(1);
}
