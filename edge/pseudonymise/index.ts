/** Pseudonymisation at the source: keyed hashes of MACs, BLE addresses and user ids, in named modes. */
export * from './errors.js';
export * from './leak-scan.js';
export * from './mac.js';
export * from './modes.js';
export * from './pseudonymiser.js';
