/**
 * `storeloop tokens add|list|revoke`: the HTTP API's bearer tokens, in the state dir of a config
 * (`<state.dir>/api-tokens.sqlite`). Works while the gateway runs: it looks each token up on every
 * request, so a revocation holds from the next one.
 */
import { join } from 'node:path';

import { loadConfig, type Config } from '../../config/index.js';
import { API_SCOPES, ApiScopeSchema, ApiTokenStore, type ApiScope, type ApiToken } from '../../gateway/auth/api-tokens.js';
import { secretKeyPath } from '../../gateway/auth/secrets.js';
import { parseDuration } from '../../lib/duration.js';

export interface TokensCommandOptions {
  config?: string;
}

/** The token store of a config's state dir, opened for `use` and closed after. */
export function withTokenStore<T>(config: Pick<Config, 'state'>, use: (store: ApiTokenStore) => T): T {
  const store = new ApiTokenStore({ file: join(config.state.dir, 'api-tokens.sqlite'), keyFile: secretKeyPath(config.state) });
  store.open();
  try {
    return use(store);
  } finally {
    store.close();
  }
}

/** `--scope analyst,operator`: every word a known scope. */
export function parseScopes(text: string): ApiScope[] {
  return text.split(',').map((word) => {
    const parsed = ApiScopeSchema.safeParse(word.trim());
    if (!parsed.success) throw new Error(`--scope: unknown scope '${word.trim()}' (scopes: ${API_SCOPES.join(', ')})`);
    return parsed.data;
  });
}

const when = (d: Date | null) => (d === null ? '-' : d.toISOString().replace(/\.\d{3}Z$/, 'Z'));

function state(t: ApiToken, now: number): string {
  if (t.revokedAt !== null) return `revoked ${when(t.revokedAt)}`;
  if (t.expiresAt !== null && t.expiresAt.getTime() <= now) return `expired ${when(t.expiresAt)}`;
  return t.expiresAt === null ? 'active' : `active until ${when(t.expiresAt)}`;
}

export function runTokensAdd(
  opts: TokensCommandOptions & { name: string; scope: string; expires?: string },
  out: NodeJS.WritableStream = process.stdout,
  env: Record<string, string | undefined> = process.env,
): void {
  const config = loadConfig(opts.config, env);
  const scopes = parseScopes(opts.scope);
  const expiresAt = opts.expires === undefined ? undefined : new Date(Date.now() + parseDuration(opts.expires));
  const { token, info } = withTokenStore(config, (store) => store.add({ name: opts.name, scopes, expiresAt }));
  const base = `http://${config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host}:${config.http.port}`;
  out.write(
    [
      `made token ${info.id} '${info.name}' (${info.scopes.join(', ')}${info.expiresAt ? `, expires ${when(info.expiresAt)}` : ', no expiry'}):`,
      '',
      `  ${token}`,
      '',
      'It is shown only now; the gateway keeps a keyed hash of it. Use it as a bearer token:',
      `  curl -H "Authorization: Bearer ${token}" ${base}/api/v1/stores`,
      `  STORELOOP_TOKEN=${token} storeloop sinks --url ${base}`,
      `or log in with it on the live page: ${base}/`,
      '',
    ].join('\n'),
  );
}

export function runTokensList(
  opts: TokensCommandOptions,
  out: NodeJS.WritableStream = process.stdout,
  env: Record<string, string | undefined> = process.env,
): void {
  const config = loadConfig(opts.config, env);
  const tokens = withTokenStore(config, (store) => store.list());
  if (tokens.length === 0) {
    out.write(`no API tokens in ${config.state.dir}: make one with storeloop tokens add --name NAME --scope SCOPE\n`);
    return;
  }
  const now = Date.now();
  const rows = tokens.map((t) => [t.id, t.name, t.scopes.join(','), when(t.createdAt), when(t.lastUsedAt), state(t, now)]);
  const header = ['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'STATE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  out.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}

export function runTokensRevoke(
  idOrName: string,
  opts: TokensCommandOptions,
  out: NodeJS.WritableStream = process.stdout,
  env: Record<string, string | undefined> = process.env,
): void {
  const config = loadConfig(opts.config, env);
  const revoked = withTokenStore(config, (store) => store.revoke(idOrName));
  out.write(`revoked token ${revoked.id} '${revoked.name}': the gateway refuses it, and ends its browser sessions, from the next request on\n`);
}
