export * from './codegen.ts';
export * from './migrations.ts';
export * from './one-shot-wasm.ts';
export * from './pglite-template.ts';
export * from './schema-engine.ts';
export * from './sql-connection.ts';
export * from './generation-stamp.ts';
