/** ApolloGateway over the supergraph file, with data sources that sign and forward. */
import { ApolloGateway } from '@apollo/gateway';
import type { Logger } from '@campus/kit';
import type { RouterConfig } from './config.ts';
import { SignedDataSource, signingFetcher } from './signed-data-source.ts';
import { supergraphFromFile } from './supergraph-file.ts';

export function createGateway(config: RouterConfig, logger: Logger): ApolloGateway {
  const fetcher = signingFetcher(config.routerSigningSecret);
  return new ApolloGateway({
    supergraphSdl: supergraphFromFile(config.supergraphPath, logger),
    buildService: ({ url }) => new SignedDataSource({ url, fetcher }),
    logger: {
      debug: (m: unknown) => logger.debug(String(m)),
      info: (m: unknown) => logger.info(String(m)),
      warn: (m: unknown) => logger.warn(String(m)),
      error: (m: unknown) => logger.error(String(m)),
    },
  });
}
