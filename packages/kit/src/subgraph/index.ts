export * from './database.ts';
export * from './loaders.ts';
export * from './pagination.ts';
export * from './service-config.ts';
export * from './shield.ts';
export * from './signed-requests.ts';
export * from './statement-tap.ts';
export * from './subgraph-server.ts';
