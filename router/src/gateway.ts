/** ApolloGateway over the supergraph file, with data sources that sign and forward. */
import { ApolloGateway, type ServiceEndpointDefinition } from '@apollo/gateway';
import type { Logger } from '@campus/kit';
import type { RouterConfig } from './config.ts';
import { SignedDataSource, signingFetcher } from './signed-data-source.ts';
import { supergraphFromFile } from './supergraph-file.ts';

/** The data source for one subgraph; the subscription executor builds its own with it too. */
export function dataSourceFactory(config: RouterConfig) {
  const fetcher = signingFetcher(config.routerSigningSecret);
  return ({ url }: ServiceEndpointDefinition) => new SignedDataSource({ url, fetcher });
}

export function createGateway(config: RouterConfig, logger: Logger): ApolloGateway {
  return new ApolloGateway({
    supergraphSdl: supergraphFromFile(config.supergraphPath, logger),
    buildService: dataSourceFactory(config),
    logger: {
      debug: (m: unknown) => logger.debug(String(m)),
      info: (m: unknown) => logger.info(String(m)),
      warn: (m: unknown) => logger.warn(String(m)),
      error: (m: unknown) => logger.error(String(m)),
    },
  });
}
