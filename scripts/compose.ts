/**
 * npm run compose [-- --config supergraph.yaml --out router/supergraph.graphql]
 * Composes the subgraphs into a supergraph file; prints composition errors and exits 1.
 *
 * Without --config it writes both supergraphs the repository keeps: the router's
 * (supergraph.yaml, subgraphs on localhost) and the deployed one (deploy/supergraph.yaml, subgraphs
 * by their Service names), which deploy/k8s/base mounts as a ConfigMap (docs/deploy.md). Both come
 * from the same schemas, so generation keeps the committed deployed copy from going stale. A
 * checkout without the manifests (the image build, Dockerfile) writes only the router's.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { composeSupergraph, CompositionError, readSupergraphConfig } from '@campus/router/compose';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]!) : undefined;
};
const config = arg('config');
const targets = config
  ? [{ config, out: arg('out') ?? resolve('router/supergraph.graphql') }]
  : [
      { config: resolve('supergraph.yaml'), out: resolve('router/supergraph.graphql') },
      { config: resolve('deploy/supergraph.yaml'), out: resolve('deploy/k8s/base/supergraph.graphql') },
    ].filter(({ out }) => existsSync(dirname(out)));

try {
  for (const { config, out } of targets) {
    writeFileSync(out, composeSupergraph(readSupergraphConfig(config)));
    console.log(`composed ${config} -> ${out}`);
  }
} catch (e) {
  console.error(e instanceof CompositionError ? e.message : `compose: ${(e as Error).message}`);
  process.exit(1);
}
