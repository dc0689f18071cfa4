/**
 * The test kit: what tests of any service share, over @campus/kit and nothing above it. Imported
 * by tests and the benchmark only, never by a service (docs/testing.md).
 */
export * from './databases.ts';
export * from './http.ts';
export * from './ports.ts';
export * from './signing.ts';
export * from './tokens.ts';
export * from './wait.ts';
export * from './ws.ts';
export * from './redis-server.ts';
