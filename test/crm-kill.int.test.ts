/**
 * Exactly once in effect at the CRM across a crash: the gateway runs as its own process (the built
 * CLI), forwards a consented customer's interactions to a webhook receiver that follows Standard
 * Webhooks (it applies each `webhook-id` once), and is killed with SIGKILL in the middle of the
 * deliveries. After the restart every event arrives, none is applied twice: what was delivered before
 * the crash but not yet marked so is sent again under the same id, and the receiver recognises it.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { DEMO_STORE_ID } from '../config/index.js';
import { newWebhookSecret, startFakeWebhookReceiver } from './helpers/fake-crm.js';
import { connectClient, publishAcked } from './helpers/gateway.js';
import { GatewayProcess } from './helpers/gateway-process.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';
import { testBuild } from './helpers/test-build.js';

const EVENTS = 40;

let influxd: TestInfluxd;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

describe('CRM delivery across a gateway kill -9', () => {
  it('delivers every consented event, each applied once, though the gateway was killed in the middle', async () => {
    const secret = newWebhookSecret();
    const receiver = await startFakeWebhookReceiver({ secrets: [secret] });
    onTestFinished(() => receiver.stop());
    const gateway = await GatewayProcess.create(testBuild(), influxd.url, {
      sinks: {
        crm: {
          // 20 a second: the 40 events take two seconds, time enough to kill the gateway among them
          destinations: [{ name: 'hooks', type: 'webhook', url: receiver.url, secrets: [secret], retryMinMs: 50, retryMaxMs: 500, ratePerSecond: 20 }],
        },
      },
    });
    onTestFinished(() => gateway.destroy());
    await gateway.start();
    const grant = await gateway.api('/api/v1/consents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: 'C-KILL', purpose: 'crm', state: 'granted', at: Date.now() - 3_600_000, channel: 'staff' }),
    });
    expect(grant.status).toBe(201);
    // a fault first: one attempt answered 500
    receiver.script({ status: 500 });

    const client = await connectClient(gateway.mqttUrl, { clientId: 'crm-kill' });
    const ts = Date.now() - 60_000;
    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i += 1) {
      await publishAcked(client, `storeloop/${DEMO_STORE_ID}/touchpoint/kiosk-1`, { ts: ts + i, mid: `k-${i}`, action: 'tap', customer: 'C-KILL' });
      ids.push(`tp-${DEMO_STORE_ID}-kiosk-1-${ts + i}-k-${i}`);
    }
    await client.endAsync();

    await eventually(
      () => receiver.accepted.length,
      (n) => n >= 5,
      'some events delivered before the crash',
      60_000,
    );
    await gateway.kill9();
    const beforeCrash = receiver.accepted.length;
    expect(beforeCrash).toBeLessThan(EVENTS);
    await gateway.start();

    await eventually(
      () => receiver.accepted.length,
      (n) => n >= EVENTS,
      'every event after the restart',
      60_000,
    );
    expect(receiver.accepted.map((a) => a.id).sort()).toEqual([...ids].sort());
    expect(receiver.rejected).toEqual([]);
    // in log order, one customer: the receiver got them in the order they happened
    expect(receiver.accepted.map((a) => a.id)).toEqual(ids);
  });
});
