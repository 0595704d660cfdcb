import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { describe, expect, it, onTestFinished } from 'vitest';

import { parseScopes, runTokensAdd, runTokensList, runTokensRevoke } from './tokens-command.js';

async function stateEnv(): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-tokens-cli-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return { STORELOOP_STATE_DIR: dir };
}

function capture(): { out: PassThrough; text(): string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

describe('storeloop tokens', () => {
  it('prints a new token once with how to use it, lists tokens without secrets, and revokes by name', async () => {
    const env = await stateEnv();
    const added = capture();
    runTokensAdd({ name: 'grafana', scope: 'analyst,integration', expires: '90d' }, added.out, env);
    const token = /^ {2}(sl_\S+)$/m.exec(added.text())?.[1] ?? '';
    expect(token).toMatch(/^sl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(added.text()).toMatch(/^made token [0-9a-f]{12} 'grafana' \(analyst, integration, expires \d{4}-/);
    expect(added.text()).toContain(`curl -H "Authorization: Bearer ${token}" http://127.0.0.1:8080/api/v1/stores`);

    const listed = capture();
    runTokensList({}, listed.out, env);
    expect(listed.text()).toMatch(/^ID +NAME +SCOPES +CREATED +LAST USED +STATE\n[0-9a-f]{12} +grafana +analyst,integration +\S+ +- +active until /);
    expect(listed.text()).not.toContain(token.slice(-43));

    const revoked = capture();
    runTokensRevoke('grafana', {}, revoked.out, env);
    expect(revoked.text()).toMatch(/^revoked token [0-9a-f]{12} 'grafana'/);
    const after = capture();
    runTokensList({}, after.out, env);
    expect(after.text()).toMatch(/ grafana +.* revoked \d{4}-/);
  });

  it('says how to make a token when there is none, and refuses an unknown scope naming the known ones', async () => {
    const env = await stateEnv();
    const listed = capture();
    runTokensList({}, listed.out, env);
    expect(listed.text()).toMatch(/^no API tokens in .*: make one with storeloop tokens add/);
    expect(() => parseScopes('analyst,root')).toThrow("--scope: unknown scope 'root' (scopes: analyst, operator, privacy-officer, integration, admin)");
    expect(() => runTokensRevoke('nobody', {}, capture().out, env)).toThrow(/no token with the id or name 'nobody'/);
  });
});
