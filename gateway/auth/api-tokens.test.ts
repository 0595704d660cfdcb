import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { API_SCOPES, ApiTokenStore, hasScope, tokenIdOf } from './api-tokens.js';

/** A store on a fresh dir, closed and removed after the test; `second` opens the same files again, as the CLI does. */
async function stores(): Promise<{ dir: string; open(): ApiTokenStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-tokens-'));
  const opened: ApiTokenStore[] = [];
  onTestFinished(async () => {
    for (const s of opened) s.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir,
    open: () => {
      const store = new ApiTokenStore({ file: join(dir, 'api-tokens.sqlite'), keyFile: join(dir, 'secret.key') });
      store.open();
      opened.push(store);
      return store;
    },
  };
}

describe('ApiTokenStore', () => {
  it('makes a token sl_<id>_<secret> that authenticates, and stores only a keyed hash of its secret', async () => {
    const { dir, open } = await stores();
    const store = open();
    const { token, info } = store.add({ name: 'grafana', scopes: ['analyst'] });
    expect(token).toMatch(/^sl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(tokenIdOf(token)).toBe(info.id);
    expect(info).toMatchObject({ name: 'grafana', scopes: ['analyst'], expiresAt: null, revokedAt: null, lastUsedAt: null });
    expect(store.authenticate(token)).toMatchObject({ ok: true, token: { id: info.id, name: 'grafana' } });
    store.close();

    const secret = token.slice(`sl_${info.id}_`.length);
    for (const file of readdirSync(dir).filter((f) => f.startsWith('api-tokens.sqlite'))) {
      expect(readFileSync(join(dir, file)).includes(secret), file).toBe(false);
    }
  });

  it('refuses a wrong secret, an unknown id and a string that is no token alike', async () => {
    const store = (await stores()).open();
    const { token, info } = store.add({ name: 'ci', scopes: ['operator'] });
    const other = `sl_${info.id}_${'A'.repeat(43)}`;
    for (const bad of [other, `sl_000000000000_${token.slice(-43)}`, 'sl_abc', '', `${token}x`, token.toUpperCase()]) {
      expect(store.authenticate(bad), bad).toEqual({ ok: false, reason: 'invalid_token' });
    }
  });

  it('sees a revocation made through another connection (the CLI) at the next check', async () => {
    const { open } = await stores();
    const gateway = open();
    const cli = open();
    const { token, info } = cli.add({ name: 'dashboards', scopes: ['analyst'] });
    expect(gateway.authenticate(token).ok).toBe(true);
    expect(cli.revoke('dashboards')).toMatchObject({ id: info.id, revokedAt: expect.any(Date) as unknown });
    expect(gateway.authenticate(token)).toEqual({ ok: false, reason: 'revoked' });
    expect(gateway.check(info.id)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('refuses a token past its expiry', async () => {
    const store = (await stores()).open();
    const now = Date.now();
    const { token, info } = store.add({ name: 'short', scopes: ['analyst'], expiresAt: new Date(now + 60_000) }, now);
    expect(store.authenticate(token, now + 59_999).ok).toBe(true);
    expect(store.authenticate(token, now + 60_000)).toEqual({ ok: false, reason: 'expired' });
    expect(store.check(info.id, now + 60_000)).toEqual({ ok: false, reason: 'expired' });
    expect(() => store.add({ name: 'late', scopes: ['analyst'], expiresAt: new Date(now - 1) }, now)).toThrow(/in the past/);
  });

  it('keeps names unique among tokens not revoked, and revokes by id or name', async () => {
    const store = (await stores()).open();
    const first = store.add({ name: 'grafana', scopes: ['analyst'] });
    expect(() => store.add({ name: 'grafana', scopes: ['operator'] })).toThrow(expect.objectContaining({ code: 'SL_ERR_API_TOKEN_NAME_TAKEN' }));
    store.revoke(first.info.id);
    const second = store.add({ name: 'grafana', scopes: ['operator'] });
    expect(store.revoke('grafana').id).toBe(second.info.id);
    expect(() => store.revoke('grafana')).toThrow(expect.objectContaining({ code: 'SL_ERR_API_TOKEN_UNKNOWN' }));
    expect(store.list().map((t) => [t.name, t.revokedAt !== null])).toEqual([
      ['grafana', true],
      ['grafana', true],
    ]);
  });

  it('refuses a bad name or no scope', async () => {
    const store = (await stores()).open();
    expect(() => store.add({ name: 'has space', scopes: ['analyst'] })).toThrow(expect.objectContaining({ code: 'SL_ERR_API_TOKEN_INVALID' }));
    expect(() => store.add({ name: 'ok', scopes: [] })).toThrow(/at least one scope/);
  });

  it('records the last use at most once a minute', async () => {
    const store = (await stores()).open();
    const now = Date.now();
    const { token } = store.add({ name: 'scraper', scopes: ['operator'] }, now);
    store.authenticate(token, now + 1_000);
    store.authenticate(token, now + 30_000);
    expect(store.list()[0]?.lastUsedAt?.getTime()).toBe(now + 1_000);
    store.authenticate(token, now + 61_000);
    expect(store.list()[0]?.lastUsedAt?.getTime()).toBe(now + 61_000);
  });
});

describe('hasScope', () => {
  it('lets admin do everything, operator what analyst does, and keeps the other scopes apart', () => {
    for (const scope of API_SCOPES) expect(hasScope(['admin'], scope), scope).toBe(true);
    expect(hasScope(['operator'], 'analyst')).toBe(true);
    expect(hasScope(['analyst'], 'operator')).toBe(false);
    expect(hasScope(['operator'], 'admin')).toBe(false);
    expect(hasScope(['privacy-officer'], 'analyst')).toBe(false);
    expect(hasScope(['integration'], 'operator')).toBe(false);
    expect(hasScope(['analyst', 'integration'], 'integration')).toBe(true);
  });
});
