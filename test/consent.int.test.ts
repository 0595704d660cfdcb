/**
 * Consent from a touchpoint, with real parts: an MQTT.js client publishes `consent_granted` and
 * `consent_withdrawn` over TCP to the gateway, the consent sink records them from the event log, and
 * the privacy officer reads them over HTTP; across a restart nothing is lost or recorded twice, and a
 * consent message without its purpose is refused with the reason an installer can see.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_STORE_ID } from '../config/index.js';
import { connectClient, metricValue, publishAcked, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';

const topic = (source: string) => `storeloop/${DEMO_STORE_ID}/touchpoint/${source}`;

interface Consents {
  purposes: Array<{ purpose: string; state: string }>;
  history: Array<{ purpose: string; state: string; channel: string; origin: string; proof?: string; notice?: string; at: string }>;
}

let influxd: TestInfluxd;
let stateDir: string;

beforeAll(async () => {
  influxd = await startInfluxd();
  stateDir = await mkdtemp(join(tmpdir(), 'storeloop-consent-'));
});
afterAll(async () => {
  await influxd?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

async function consentsOf(gw: TestGateway, customer: string): Promise<Consents | null> {
  const res = await gw.api(`/api/v1/customers/${customer}/consents`);
  return res.status === 404 ? null : ((await res.json()) as Consents);
}

const crmState = (c: Consents | null) => c?.purposes.find((p) => p.purpose === 'crm')?.state;

describe('consent from the touchpoints', () => {
  it('records grants and withdrawals sent over MQTT once each, in their place in time, across a restart', async () => {
    const database = 't_consent';
    const config = { state: { dir: stateDir } };
    const ts = Date.now() - 120_000;
    let gw = await startTestGateway({ influxUrl: influxd.url, database, config });
    try {
      const client = await connectClient(gw.mqttUrl, { clientId: 'consent-kiosk' });
      const grant = { ts, mid: 'consent-1', action: 'consent_granted', customer: 'C-900', purpose: 'crm', notice: 'privacy-2026-03' };
      await publishAcked(client, topic('kiosk-1'), grant);
      const granted = await eventually(
        () => consentsOf(gw, 'C-900'),
        (c) => crmState(c) === 'granted',
        'the grant in the registry',
      );
      expect(granted?.history).toEqual([
        expect.objectContaining({
          purpose: 'crm',
          state: 'granted',
          at: new Date(ts).toISOString(),
          channel: 'kiosk',
          origin: `touchpoint ${DEMO_STORE_ID}/kiosk-1`,
          notice: 'privacy-2026-03',
          proof: expect.stringContaining('(mid consent-1)') as string,
        }),
      ]);

      // the withdrawal, from the app (a QR code), then a resend of the grant: recognised, not recorded again
      await publishAcked(client, topic('qr-shoes'), { ts: ts + 60_000, mid: 'consent-2', action: 'consent_withdrawn', customer: 'C-900', purpose: 'crm' });
      await publishAcked(client, topic('kiosk-1'), grant);
      const withdrawn = await eventually(
        () => consentsOf(gw, 'C-900'),
        (c) => crmState(c) === 'withdrawn',
        'the withdrawal in the registry',
      );
      expect(withdrawn?.history.map((c) => [c.state, c.channel])).toEqual([
        ['granted', 'kiosk'],
        ['withdrawn', 'app'],
      ]);

      // a consent action without its purpose: refused at ingest, with the reason, and nothing recorded
      await publishAcked(client, topic('kiosk-1'), { ts, mid: 'consent-bad', action: 'consent_granted', customer: 'C-901' });
      const rejection = await eventually(
        async () => ((await (await gw.api('/api/v1/rejections?limit=5')).json()) as { rejections: Array<{ reason: string; detail: string }> }).rejections,
        (list) => list.some((r) => r.detail.includes('consent_granted needs a purpose')),
        'the rejection of the consent without a purpose',
      );
      expect(rejection.find((r) => r.detail.includes('needs a purpose'))?.reason).toBe('schema_invalid');
      expect(await consentsOf(gw, 'C-901')).toBeNull();
      await client.endAsync();
      expect(await metricValue(gw.httpUrl, 'storeloop_consent_changes_total', { purpose: 'crm', state: 'granted' })).toBe(1);
      await gw.stop();

      // a restart: the registry is on disk; the sink resumes from its checkpoint and records nothing twice
      gw = await startTestGateway({ influxUrl: influxd.url, database, config });
      const client2 = await connectClient(gw.mqttUrl, { clientId: 'consent-kiosk-2' });
      await publishAcked(client2, topic('kiosk-1'), { ts: ts + 90_000, mid: 'consent-3', action: 'consent_granted', customer: 'C-900', purpose: 'analytics' });
      await client2.endAsync();
      const after = await eventually(
        () => consentsOf(gw, 'C-900'),
        (c) => c?.purposes.find((p) => p.purpose === 'analytics')?.state === 'granted',
        'the grant after the restart',
      );
      expect(after?.history.map((c) => `${c.purpose} ${c.state}`)).toEqual(['crm granted', 'crm withdrawn', 'analytics granted']);
    } finally {
      await gw.stop();
    }
  });
});
