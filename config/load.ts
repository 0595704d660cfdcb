/**
 * Reads the YAML config file (or the built-in demo store when there is none), applies the
 * STORELOOP_* environment overrides and validates once. No other module reads process.env or the file.
 */
import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';

import { DEMO_STORE } from './demo-store.js';
import { deepFreeze, parseEnvValue, setPath } from '../lib/env-overrides.js';
import { ConfigSchema, type Config } from './schema.js';
import { applyCrmSecretsFromEnv } from './sinks-schema.js';

export class ConfigError extends Error {
  readonly code = 'SL_ERR_CONFIG_INVALID';
  constructor(
    message: string,
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Environment variables and the config key each sets; numbers are parsed, `wsPort` accepts `off`. */
export const ENV_OVERRIDES: ReadonlyArray<readonly [string, readonly string[], 'int' | 'string' | 'port?']> = [
  ['STORELOOP_MQTT_HOST', ['mqtt', 'host'], 'string'],
  ['STORELOOP_MQTT_PORT', ['mqtt', 'port'], 'int'],
  ['STORELOOP_WS_PORT', ['mqtt', 'wsPort'], 'port?'],
  ['STORELOOP_TOPIC_PREFIX', ['mqtt', 'topicPrefix'], 'string'],
  ['STORELOOP_HTTP_HOST', ['http', 'host'], 'string'],
  ['STORELOOP_HTTP_PORT', ['http', 'port'], 'int'],
  ['STORELOOP_HTTP_MAX_LIVE_STREAMS', ['http', 'maxLiveStreams'], 'int'],
  ['STORELOOP_INFLUX_URL', ['influx', 'url'], 'string'],
  ['STORELOOP_INFLUX_API', ['influx', 'api'], 'string'],
  ['STORELOOP_INFLUX_DATABASE', ['influx', 'database'], 'string'],
  ['STORELOOP_INFLUX_USERNAME', ['influx', 'username'], 'string'],
  ['STORELOOP_INFLUX_PASSWORD', ['influx', 'password'], 'string'],
  ['STORELOOP_INFLUX_BUCKET', ['influx', 'bucket'], 'string'],
  ['STORELOOP_INFLUX_ORG', ['influx', 'org'], 'string'],
  ['STORELOOP_INFLUX_TOKEN', ['influx', 'token'], 'string'],
  ['STORELOOP_LOG_LEVEL', ['log', 'level'], 'string'],
  ['STORELOOP_STATE_DIR', ['state', 'dir'], 'string'],
  ['STORELOOP_LOG_QUOTA_BYTES', ['eventLog', 'quotaBytes'], 'int'],
  ['STORELOOP_ACK_MODE', ['mqtt', 'ackMode'], 'string'],
  ['STORELOOP_MQTT_TLS_HOST', ['mqtt', 'tls', 'host'], 'string'],
  ['STORELOOP_MQTT_TLS_PORT', ['mqtt', 'tls', 'port'], 'int'],
  ['STORELOOP_MQTT_TLS_WS_PORT', ['mqtt', 'tls', 'wsPort'], 'port?'],
  ['STORELOOP_MQTT_TLS_CERT_FILE', ['mqtt', 'tls', 'certFile'], 'string'],
  ['STORELOOP_MQTT_TLS_KEY_FILE', ['mqtt', 'tls', 'keyFile'], 'string'],
  ['STORELOOP_MQTT_TLS_CA_FILE', ['mqtt', 'tls', 'caFile'], 'string'],
  ['STORELOOP_MQTT_TLS_CLIENT_CERTIFICATES', ['mqtt', 'tls', 'clientCertificates'], 'string'],
];

/** Environment variables that no longer exist, and what replaced them: refused, never silently ignored. */
const RENAMED_ENV: ReadonlyArray<[string, string]> = [['STORELOOP_SPOOL_QUOTA_BYTES', 'STORELOOP_LOG_QUOTA_BYTES']];

/**
 * Config keys that no longer do anything: still accepted so older files load, but each one set
 * gives a warning (`configWarnings`); a later version will refuse them.
 */
export const DEPRECATED_KEYS: ReadonlyArray<readonly [path: readonly string[], why: string]> = [
  [['influx', 'flushIntervalMs'], 'the InfluxDB sink sends each batch as soon as it has it'],
  [['influx', 'maxRetries'], 'the InfluxDB sink retries a failed batch itself (sinks.influx.retryMinMs to retryMaxMs)'],
  [['influx', 'maxRetryDelayMs'], 'the InfluxDB sink retries a failed batch itself (sinks.influx.retryMaxMs)'],
];

/** One warning per deprecated key the config sets; the gateway logs them at start, `config check` prints them. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  for (const [path, why] of DEPRECATED_KEYS) {
    let value: unknown = config;
    for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    if (value !== undefined) warnings.push(`${path.join('.')} is deprecated and ignored (${why}); remove it: a later version will refuse it`);
  }
  return warnings;
}

/** Validates a raw config object (already parsed from YAML) with the env overrides applied. */
export function parseConfig(raw: unknown, env: Env = {}, source = 'config', options: { demoStoreByDefault?: boolean } = {}): Config {
  const input: Record<string, unknown> =
    raw === undefined || raw === null
      ? {}
      : typeof raw === 'object' && !Array.isArray(raw)
        ? structuredClone(raw as Record<string, unknown>)
        : { __notAnObject: raw };
  if ('__notAnObject' in input) throw new ConfigError(`${source}: expected a YAML mapping at the top level`, ['(root): expected a mapping']);
  for (const [old, now] of RENAMED_ENV) {
    if (env[old] !== undefined && env[old] !== '') throw new ConfigError(`${source}: ${old} was renamed to ${now}`, [`${old}: renamed to ${now}`]);
  }
  for (const [name, path, type] of ENV_OVERRIDES) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(input, path, parseEnvValue(value, type));
  }
  // the CRM destinations are a list: their secrets come from variables named after each destination
  applyCrmSecretsFromEnv(input, env);
  if (input.stores === undefined && (options.demoStoreByDefault ?? true)) input.stores = [DEMO_STORE];
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.') || '(root)';
      const envName = ENV_OVERRIDES.find(([, p]) => p.join('.') === path)?.[0];
      return `${path}: ${issue.message}${envName && env[envName] !== undefined ? ` (from ${envName})` : ''}`;
    });
    throw new ConfigError(`${source} is invalid:\n  ${problems.join('\n  ')}`, problems);
  }
  const storeIds = parsed.data.stores.map((s) => s.id);
  const dup = storeIds.find((id, i) => storeIds.indexOf(id) !== i);
  if (dup) throw new ConfigError(`${source} is invalid:\n  stores: duplicate store id '${dup}'`, [`stores: duplicate store id '${dup}'`]);
  return deepFreeze(parsed.data);
}

/** Loads the config file (YAML), or the built-in demo store when `file` is undefined. */
export function loadConfig(file: string | undefined, env: Env = process.env): Config {
  if (file === undefined) return parseConfig({}, env, 'built-in demo config');
  // a config file describes its own stores: the demo store is only for running without one
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, [(err as Error).message], { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`, [(err as Error).message], { cause: err });
  }
  return parseConfig(raw, env, file, { demoStoreByDefault: false });
}
