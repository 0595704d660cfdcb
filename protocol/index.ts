/** storeloop wire contract v1: topics, payload schemas, inferred types. Imports nothing but zod. */
export * from './topics.js';
export * from './identifiers.js';
export * from './messages.js';
export * from './kinds.js';
export * from './decode.js';
