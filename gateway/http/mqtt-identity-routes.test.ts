import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { buildTestApi, type TestApi } from './http-api.fixtures.js';

let api: TestApi;

beforeEach(async () => {
  api = await buildTestApi();
});
afterEach(async () => {
  await api.close();
});

const kiosk = { role: 'device', stores: ['demo-store'], source: 'kiosk-1' };

describe('MQTT identity routes', () => {
  it('adds an identity for an operator token, shows its password once and keeps only a hash', async () => {
    const operator = api.tokens.add({ name: 'installer', scopes: ['operator'] }).token;
    const made = await api.inject({ method: 'POST', url: '/api/v1/mqtt/identities', payload: kiosk, headers: { authorization: `Bearer ${operator}` } });
    expect(made.statusCode, made.body).toBe(201);
    const body = made.json<{ username: string; password: string; identity: { hasSecret: boolean } }>();
    expect(body).toMatchObject({ username: 'demo-store/kiosk-1', identity: { hasSecret: true } });
    const stored = api.deps.mqttIdentities.get('demo-store/kiosk-1');
    expect(stored?.secretHash).not.toContain(body.password);
    expect(api.deps.mqttIdentities.verifySecret(stored!, body.password)).toBe(true);
    const listed = await api.inject({ method: 'GET', url: '/api/v1/mqtt/identities' });
    expect(listed.body).not.toContain(body.password);
    expect(listed.json<{ identities: Array<{ name: string }> }>().identities.map((i) => i.name)).toEqual(['demo-store/kiosk-1']);
  });

  it('refuses an analyst token', async () => {
    const analyst = api.tokens.add({ name: 'looker', scopes: ['analyst'] }).token;
    const refused = await api.inject({ method: 'POST', url: '/api/v1/mqtt/identities', payload: kiosk, headers: { authorization: `Bearer ${analyst}` } });
    expect(refused.statusCode).toBe(403);
    expect(api.deps.mqttIdentities.list()).toEqual([]);
  });

  it('refuses a source the config does not have, a second identity of one name, and names what is wrong', async () => {
    const unknown = await api.inject({ method: 'POST', url: '/api/v1/mqtt/identities', payload: { ...kiosk, source: 'kiosk-9' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({
      code: 'SL_ERR_CREDENTIALS_INVALID',
      error: expect.stringContaining("source 'kiosk-9' is not in store 'demo-store'"),
    });
    const noSource = await api.inject({ method: 'POST', url: '/api/v1/mqtt/identities', payload: { role: 'device', stores: ['demo-store'] } });
    expect(noSource.json()).toMatchObject({ error: expect.stringContaining('needs its source id') });
    expect((await api.inject({ method: 'POST', url: '/api/v1/mqtt/identities', payload: kiosk })).statusCode).toBe(201);
    const again = await api.inject({ method: 'POST', url: '/api/v1/mqtt/identities', payload: kiosk });
    expect(again.statusCode).toBe(409);
  });

  it('rotates and revokes by name (its slash encoded), and answers 404 for what is not there', async () => {
    const first = (await api.inject({ method: 'POST', url: '/api/v1/mqtt/identities', payload: kiosk })).json<{ password: string }>();
    const rotated = await api.inject({ method: 'POST', url: '/api/v1/mqtt/identities/demo-store%2Fkiosk-1/rotate' });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const { password } = rotated.json<{ password: string }>();
    const stored = api.deps.mqttIdentities.get('demo-store/kiosk-1')!;
    expect(api.deps.mqttIdentities.verifySecret(stored, password)).toBe(true);
    expect(api.deps.mqttIdentities.verifySecret(stored, first.password)).toBe(false);
    const revoked = await api.inject({ method: 'DELETE', url: '/api/v1/mqtt/identities/demo-store%2Fkiosk-1' });
    expect(revoked.json()).toMatchObject({ name: 'demo-store/kiosk-1', hasSecret: false, revokedAt: expect.any(String) });
    expect((await api.inject({ method: 'DELETE', url: '/api/v1/mqtt/identities/demo-store%2Fkiosk-1' })).statusCode).toBe(404);
    expect((await api.inject({ method: 'POST', url: '/api/v1/mqtt/identities/nobody/rotate' })).statusCode).toBe(404);
  });
});
