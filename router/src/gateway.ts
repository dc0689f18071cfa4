/** ApolloGateway over the supergraph file, with data sources that sign and forward. */
import { ApolloGateway, type ServiceEndpointDefinition } from '@apollo/gateway';
import type { Logger } from '@campus/kit/core';
import { createRequestSigner, type RequestSigner } from '@campus/kit/identity';
import { ROUTER_ISSUER } from '@campus/kit/identity';
import type { RouterConfig } from './config.ts';
import { SignedDataSource, signingFetcher } from './signed-data-source.ts';
import { createSubgraphResilience, type SubgraphFetchObserver } from './subgraph-resilience.ts';
import { supergraphFromFile } from './supergraph-file.ts';

/**
 * The data source for one subgraph. Build the factory once per router and hand it to both the
 * gateway and the subscription executor: it holds the subgraphs' circuit breakers, which must
 * see every fetch to a subgraph to know that it keeps failing.
 */
export function dataSourceFactory(
  config: RouterConfig,
  logger: Logger,
  signer: RequestSigner = createRequestSigner(ROUTER_ISSUER, config.signingKeys),
  observer?: SubgraphFetchObserver,
) {
  const resilience = createSubgraphResilience(config.subgraphs, logger, observer);
  return ({ name, url }: ServiceEndpointDefinition) =>
    new SignedDataSource({ name, url, fetcher: signingFetcher(signer, name), guard: resilience.forSubgraph(name, url) });
}

export function createGateway(config: RouterConfig, logger: Logger, buildService = dataSourceFactory(config, logger)): ApolloGateway {
  return new ApolloGateway({
    supergraphSdl: supergraphFromFile(config.supergraphPath, logger),
    buildService,
    logger: {
      debug: (m: unknown) => logger.debug(String(m)),
      info: (m: unknown) => logger.info(String(m)),
      warn: (m: unknown) => logger.warn(String(m)),
      error: (m: unknown) => logger.error(String(m)),
    },
  });
}
