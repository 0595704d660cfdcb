/** Wifi presence sources of the edge agent: the Meraki Scanning API v3 receiver and probe-request capture. */
export * from './errors.js';
export * from './meraki-mapping.js';
export * from './meraki-receiver.js';
export * from './meraki-schema.js';
export * from './probe-batcher.js';
export * from './probe-capture.js';
export * from './source-id.js';
export * from './tshark-fields.js';
