import { describe, expect, it, onTestFinished } from 'vitest';

import { buildTestApi } from './http-api.fixtures.js';

const BEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';

async function api() {
  const built = await buildTestApi();
  onTestFinished(() => built.close());
  const dpo = built.tokens.add({ name: 'dpo', scopes: ['privacy-officer'] }).token;
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, token = dpo) =>
    built.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) });
  return { ...built, call };
}

describe('identity link routes', () => {
  it('links a beacon id to a customer from their action, for privacy.identityLinkDays, and the CRM side resolves through it', async () => {
    const a = await api();
    const at = Date.now() - 60_000;
    const res = await a.call('POST', '/api/v1/customers/C-7/identity-links', { pseudonym: BEACON, channel: 'qr_scan', proof: 'app session 4711', at });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      customer: 'C-7',
      link: {
        pseudonym: BEACON,
        validFrom: new Date(at).toISOString(),
        validUntil: new Date(at + 30 * 86_400_000).toISOString(),
        origin: 'api token dpo: qr_scan, app session 4711',
      },
    });
    const token = a.deps.customerTokens.existingToken('C-7') as string;
    expect(a.deps.customerTokens.tokenLinkedAt(BEACON, at + 1000)).toBe(token);
    expect(a.deps.customerTokens.tokenLinkedAt(BEACON, at - 1000)).toBeUndefined();
    const read = await a.call('GET', '/api/v1/customers/C-7/identity-links');
    expect(read.json().links).toHaveLength(1);
  });

  it('ends a link at once when the customer unlinks: later events no longer resolve, earlier ones still do', async () => {
    const a = await api();
    const at = Date.now() - 60_000;
    await a.call('POST', '/api/v1/customers/C-8/identity-links', { pseudonym: BEACON, channel: 'loyalty_card', proof: 'till 3 receipt 88', at, validDays: 2 });
    const ended = await a.call('DELETE', `/api/v1/customers/C-8/identity-links/${encodeURIComponent(BEACON)}`);
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toEqual({ ended: 1 });
    const token = a.deps.customerTokens.existingToken('C-8') as string;
    expect(a.deps.customerTokens.tokenLinkedAt(BEACON, at + 1000)).toBe(token);
    expect(a.deps.customerTokens.tokenLinkedAt(BEACON, Date.now() + 1000)).toBeUndefined();
    const again = await a.call('DELETE', `/api/v1/customers/C-8/identity-links/${encodeURIComponent(BEACON)}`);
    expect(again.statusCode).toBe(404);
    expect(again.json().error).toContain("has no current link of '" + BEACON + "'");
  });

  it('refuses a future or back-dated link, a MAC address, a validity over the configured days, and other scopes', async () => {
    const a = await api();
    const post = (body: object, token?: string) =>
      a.call('POST', '/api/v1/customers/C-9/identity-links', { pseudonym: BEACON, channel: 'app', proof: 'p', ...body }, token);
    const future = await post({ at: Date.now() + 3_600_000 });
    expect(future.statusCode).toBe(400);
    expect(future.json().error).toContain('is in the future');
    const old = await post({ at: Date.now() - 3 * 86_400_000 });
    expect(old.statusCode).toBe(400);
    expect(old.json().error).toContain('cannot be back-dated');
    const mac = await post({ pseudonym: 'aa:bb:cc:dd:ee:ff' });
    expect(mac.statusCode).toBe(400);
    expect(mac.json().error).toContain('a MAC address is not a beacon id');
    expect((await post({ validDays: 31 })).statusCode).toBe(400);
    const analyst = a.tokens.add({ name: 'analyst', scopes: ['analyst'] }).token;
    expect((await post({}, analyst)).statusCode).toBe(403);
    expect((await a.app.inject({ method: 'GET', url: '/api/v1/customers/C-9/identity-links' })).statusCode).toBe(401);
    expect((await a.call('GET', '/api/v1/customers/C-unknown/identity-links')).statusCode).toBe(404);
    expect(a.deps.customerTokens.existingToken('C-9')).toBeUndefined();
  });
});
