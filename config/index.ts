export * from './schema.js';
export * from './load.js';
export * from './demo-store.js';
export * from './layout-schema.js';
export * from './store-layout.js';
export { crmSecretEnvName } from './sinks-schema.js';
