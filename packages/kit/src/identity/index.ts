export * from './caller-permissions.ts';
export * from './request-signature.ts';
export * from './seen-request-ids.ts';
export * from './service-keys.ts';
export * from './session-revocation.ts';
export * from './viewer.ts';
