import { describe, expect, it, onTestFinished } from 'vitest';

import { buildTestApi, type TestApi } from './http-api.fixtures.js';

const PRIVACY = {
  controller: {
    name: 'Maison Exemple SAS',
    contact: 'Data protection officer',
    email: 'dpo@maison-exemple.test',
    address: '1 rue Exemple, 75001 Paris',
    phone: '+33 1 00 00 00 00',
  },
  policyUrl: 'https://maison-exemple.test/privacy/2026-03',
  language: 'fr',
};

async function api(privacy?: Record<string, unknown>): Promise<TestApi & { as(scope: 'privacy-officer' | 'integration' | 'analyst' | 'operator'): string }> {
  const built = await buildTestApi(privacy === undefined ? {} : { privacy });
  onTestFinished(() => built.close());
  return { ...built, as: (scope) => built.tokens.add({ name: `t-${scope}`, scopes: [scope] }).token };
}

const T = Date.UTC(2026, 10, 30, 12);

describe('consent routes', () => {
  it('records a grant and a withdrawal, and answers the state per purpose, the history and the audit log', async () => {
    const a = await api();
    const dpo = a.as('privacy-officer');
    const post = (body: object) => a.app.inject({ method: 'POST', url: '/api/v1/consents', headers: { authorization: `Bearer ${dpo}` }, payload: body });
    const granted = await post({ customer: 'C-1', purpose: 'crm', state: 'granted', at: T, channel: 'staff', notice: 'privacy-2026-03', proof: 'form 17' });
    expect(granted.statusCode).toBe(201);
    expect(granted.json().consent).toMatchObject({
      customer: 'C-1',
      purpose: 'crm',
      state: 'granted',
      at: new Date(T).toISOString(),
      channel: 'staff',
      origin: 'api token t-privacy-officer',
      notice: 'privacy-2026-03',
      proof: 'form 17',
    });
    expect((await post({ customer: 'C-1', purpose: 'crm', state: 'withdrawn', at: new Date(T + 60_000).toISOString(), channel: 'app' })).statusCode).toBe(201);
    expect((await post({ customer: 'C-1', purpose: 'analytics', state: 'granted', at: T, channel: 'kiosk' })).statusCode).toBe(201);

    const read = await a.app.inject({ url: '/api/v1/customers/C-1/consents', headers: { authorization: `Bearer ${dpo}` } });
    expect(read.statusCode).toBe(200);
    expect(read.json().purposes).toEqual([
      { purpose: 'analytics', state: 'granted', since: new Date(T).toISOString() },
      { purpose: 'personalisation', state: 'never_asked', since: null },
      { purpose: 'crm', state: 'withdrawn', since: new Date(T + 60_000).toISOString() },
    ]);
    expect(read.json().history.map((c: { purpose: string; state: string }) => `${c.purpose} ${c.state}`)).toEqual([
      'crm granted',
      'analytics granted',
      'crm withdrawn',
    ]);

    const audit = await a.app.inject({ url: '/api/v1/consent-audit', headers: { authorization: `Bearer ${dpo}` } });
    expect(audit.json().entries.map((e: { type: string; customer: string }) => [e.type, e.customer])).toEqual([
      ['consent', 'C-1'],
      ['consent', 'C-1'],
      ['consent', 'C-1'],
    ]);
    const future = await a.app.inject({ url: `/api/v1/consent-audit?since=${Date.now() + 60_000}`, headers: { authorization: `Bearer ${dpo}` } });
    expect(future.json().entries).toEqual([]);
    const bad = await a.app.inject({ url: '/api/v1/consent-audit?since=yesterday', headers: { authorization: `Bearer ${dpo}` } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toContain("'yesterday' is neither ISO 8601 nor epoch ms");
  });

  it('refuses an unknown purpose or channel with the field named, and answers 404 for a customer never seen', async () => {
    const a = await api();
    const dpo = a.as('privacy-officer');
    const res = await a.app.inject({
      method: 'POST',
      url: '/api/v1/consents',
      headers: { authorization: `Bearer ${dpo}` },
      payload: { customer: 'C-1', purpose: 'marketing', state: 'granted', channel: 'kiosk' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('purpose');
    const unknown = await a.app.inject({ url: '/api/v1/customers/C-404/consents', headers: { authorization: `Bearer ${dpo}` } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: "no consent or identity is recorded for customer 'C-404'", code: 'SL_ERR_CUSTOMER_UNKNOWN' });
  });

  it('lets only the privacy officer read and record, only the integration push from the CRM, and nobody without a token', async () => {
    const a = await api();
    const grant = { customer: 'C-1', purpose: 'crm', state: 'granted', channel: 'staff' };
    const crm = { updates: [{ id: 'crm-1', customer: 'C-1', purpose: 'crm', state: 'granted', at: T }] };
    for (const scope of ['analyst', 'operator', 'integration'] as const) {
      const token = a.as(scope);
      const res = await a.app.inject({ method: 'POST', url: '/api/v1/consents', headers: { authorization: `Bearer ${token}` }, payload: grant });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toContain("needs the scope 'privacy-officer'");
    }
    const dpo = a.as('privacy-officer');
    expect(
      (await a.app.inject({ method: 'POST', url: '/api/v1/integrations/crm/consents', headers: { authorization: `Bearer ${dpo}` }, payload: crm })).statusCode,
    ).toBe(403);
    expect((await a.app.inject({ method: 'GET', url: '/api/v1/consent-audit' })).statusCode).toBe(401);
    expect((await a.app.inject({ method: 'POST', url: '/api/v1/integrations/crm/consents', payload: crm })).statusCode).toBe(401);
  });

  it("records the CRM's changes once however often a batch is retried", async () => {
    const a = await api();
    const crm = a.as('integration');
    const batch = {
      updates: [
        { id: 'hs-881', customer: 'C-7', purpose: 'crm', state: 'granted', at: T },
        { id: 'hs-882', customer: 'C-7', purpose: 'crm', state: 'withdrawn', at: new Date(T + 1000).toISOString() },
      ],
    };
    const push = () => a.app.inject({ method: 'POST', url: '/api/v1/integrations/crm/consents', headers: { authorization: `Bearer ${crm}` }, payload: batch });
    expect((await push()).json()).toEqual({ recorded: 2, alreadyRecorded: 0 });
    expect((await push()).json()).toEqual({ recorded: 0, alreadyRecorded: 2 });
    const history = await a.inject({ url: '/api/v1/customers/C-7/consents' });
    expect(history.json().history).toMatchObject([
      { state: 'granted', channel: 'crm_import', origin: 'crm token t-integration', proof: 'CRM change hs-881' },
      { state: 'withdrawn', channel: 'crm_import', proof: 'CRM change hs-882' },
    ]);
  });

  it('gives a Kantara 1.1 receipt per grant with when it was withdrawn, and says which config is missing without a controller', async () => {
    const bare = await api();
    const dpo0 = bare.as('privacy-officer');
    await bare.app.inject({
      method: 'POST',
      url: '/api/v1/consents',
      headers: { authorization: `Bearer ${dpo0}` },
      payload: { customer: 'C-1', purpose: 'crm', state: 'granted', channel: 'kiosk' },
    });
    const missing = await bare.app.inject({ url: '/api/v1/customers/C-1/consent-receipts', headers: { authorization: `Bearer ${dpo0}` } });
    expect(missing.statusCode).toBe(409);
    expect(missing.json().error).toContain('set privacy.controller and privacy.policyUrl in the config');

    const a = await api(PRIVACY);
    const dpo = a.as('privacy-officer');
    const post = (body: object) => a.app.inject({ method: 'POST', url: '/api/v1/consents', headers: { authorization: `Bearer ${dpo}` }, payload: body });
    const grant = (await post({ customer: 'C-1', purpose: 'crm', state: 'granted', at: T, channel: 'kiosk' })).json().consent;
    await post({ customer: 'C-1', purpose: 'crm', state: 'withdrawn', at: T + 5000, channel: 'app' });
    await post({ customer: 'C-1', purpose: 'analytics', state: 'granted', at: T, channel: 'app' });
    const res = await a.app.inject({ url: '/api/v1/customers/C-1/consent-receipts', headers: { authorization: `Bearer ${dpo}` } });
    expect(res.statusCode).toBe(200);
    const [crm, analytics] = res.json().receipts;
    expect(crm.withdrawnAt).toBe(new Date(T + 5000).toISOString());
    expect(analytics.withdrawnAt).toBeNull();
    expect(crm.receipt).toMatchObject({
      version: 'KI-CR-v1.1.0',
      jurisdiction: 'EU',
      consentTimestamp: T / 1000,
      consentReceiptID: grant.id,
      language: 'fr',
      piiPrincipalId: 'C-1',
      piiControllers: [{ piiController: 'Maison Exemple SAS', email: 'dpo@maison-exemple.test' }],
      policyUrl: PRIVACY.policyUrl,
      sensitive: false,
      spiCat: [],
    });
    expect(crm.receipt.services[0].purposes[0]).toMatchObject({
      consentType: 'EXPLICIT',
      purposeCategory: ['Marketing'],
      thirdPartyDisclosure: true,
      primaryPurpose: true,
    });
  });
});
