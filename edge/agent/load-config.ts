/**
 * Reads the agent's YAML file, applies the STORELOOP_EDGE_* environment overrides, reads the
 * pseudonymisation secret file, and validates once. No other edge module reads process.env or files
 * named by the config (the same pattern as config/load.ts).
 */
import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';

import { MIN_SECRET_BYTES } from '../pseudonymise/index.js';
import { EdgeConfigError } from './errors.js';
import { EdgeConfigSchema, type EdgeConfig } from './config-schema.js';
import { deepFreeze, parseEnvValue, setPath } from '../../lib/env-overrides.js';

type Env = Record<string, string | undefined>;

/** Environment variables and the key each sets. */
export const EDGE_ENV_OVERRIDES: ReadonlyArray<readonly [string, readonly string[], 'int' | 'string']> = [
  ['STORELOOP_EDGE_AGENT_ID', ['agent', 'id'], 'string'],
  ['STORELOOP_EDGE_STORE_ID', ['agent', 'storeId'], 'string'],
  ['STORELOOP_EDGE_GATEWAY_URL', ['gateway', 'url'], 'string'],
  ['STORELOOP_EDGE_GATEWAY_USERNAME', ['gateway', 'username'], 'string'],
  ['STORELOOP_EDGE_GATEWAY_PASSWORD', ['gateway', 'password'], 'string'],
  ['STORELOOP_EDGE_GATEWAY_CA_FILE', ['gateway', 'caFile'], 'string'],
  ['STORELOOP_EDGE_GATEWAY_CERT_FILE', ['gateway', 'certFile'], 'string'],
  ['STORELOOP_EDGE_GATEWAY_KEY_FILE', ['gateway', 'keyFile'], 'string'],
  ['STORELOOP_EDGE_QUEUE_DIR', ['queue', 'dir'], 'string'],
  ['STORELOOP_EDGE_QUEUE_QUOTA_BYTES', ['queue', 'quotaBytes'], 'int'],
  ['STORELOOP_EDGE_SECRET', ['pseudonymise', 'secret'], 'string'],
  ['STORELOOP_EDGE_SECRET_FILE', ['pseudonymise', 'secretFile'], 'string'],
  ['STORELOOP_EDGE_LOG_LEVEL', ['log', 'level'], 'string'],
];

/** The env overrides of a secret replace each other: STORELOOP_EDGE_SECRET wins over a secretFile in the YAML, and vice versa. */
function applyEnv(input: Record<string, unknown>, env: Env): void {
  for (const [name, path, type] of EDGE_ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (name === 'STORELOOP_EDGE_SECRET') setPath(input, ['pseudonymise', 'secretFile'], undefined);
    if (name === 'STORELOOP_EDGE_SECRET_FILE') setPath(input, ['pseudonymise', 'secret'], undefined);
    setPath(input, path, parseEnvValue(value, type));
  }
}

function problemsOf(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>, env: Env): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(root)';
    const envName = EDGE_ENV_OVERRIDES.find(([, p]) => p.join('.') === path)?.[0];
    return `${path}: ${issue.message}${envName && env[envName] ? ` (from ${envName})` : ''}`;
  });
}

/** Reads `secretFile` into `secret` (trailing whitespace dropped), so the rest of the agent sees one key. */
function resolveSecretFile(config: EdgeConfig, source: string): EdgeConfig {
  const file = config.pseudonymise?.secretFile;
  if (config.pseudonymise === undefined || file === undefined) return config;
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trimEnd();
  } catch (err) {
    const problem = `pseudonymise.secretFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    throw new EdgeConfigError(`${source} is invalid:\n  ${problem}`, [problem], { cause: err });
  }
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    const problem = `pseudonymise.secretFile: ${file} holds fewer than ${MIN_SECRET_BYTES} bytes`;
    throw new EdgeConfigError(`${source} is invalid:\n  ${problem}`, [problem]);
  }
  return { ...config, pseudonymise: { ...config.pseudonymise, secret } };
}

/** Reads the gateway link's PEM files (CA, client certificate and key) into `ca`, `cert` and `key`. */
function resolveTlsFiles(config: EdgeConfig, source: string): EdgeConfig {
  const link = { ...config.gateway };
  for (const [fileKey, key] of [
    ['caFile', 'ca'],
    ['certFile', 'cert'],
    ['keyFile', 'key'],
  ] as const) {
    const file = link[fileKey];
    if (file === undefined) continue;
    try {
      link[key] = readFileSync(file, 'utf8');
    } catch (err) {
      const problem = `gateway.${fileKey}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      throw new EdgeConfigError(`${source} is invalid:\n  ${problem}`, [problem], { cause: err });
    }
  }
  return { ...config, gateway: link };
}

/** Validates a raw config object (parsed YAML) with the env overrides applied; answers a frozen config. */
export function parseEdgeConfig(raw: unknown, env: Env = {}, source = 'edge config'): EdgeConfig {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new EdgeConfigError(`${source}: expected a YAML mapping at the top level`, ['(root): expected a mapping']);
  }
  const input = structuredClone((raw ?? {}) as Record<string, unknown>);
  applyEnv(input, env);
  const parsed = EdgeConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error.issues, env);
    throw new EdgeConfigError(`${source} is invalid:\n  ${problems.join('\n  ')}`, problems);
  }
  return deepFreeze(resolveTlsFiles(resolveSecretFile(parsed.data, source), source));
}

/** Loads and validates the agent's YAML file. */
export function loadEdgeConfig(file: string, env: Env = process.env): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EdgeConfigError(`cannot read edge config file ${file}: ${(err as Error).message}`, [(err as Error).message], { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new EdgeConfigError(`${file}: not valid YAML: ${(err as Error).message}`, [(err as Error).message], { cause: err });
  }
  return parseEdgeConfig(raw, env, file);
}
