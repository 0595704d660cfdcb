/**
 * The agent's local ingress over real HTTP: kiosks, mirrors, shelves and terminals POST contract
 * payloads; bad input gets a 4xx with the zod path; MAC-shaped values are refused and appear nowhere
 * (not in the answer, the log, the queue files or what reaches the broker).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { macSpellings } from '../edge/pseudonymise/index.js';
import { eventually, startTestAgent } from './helpers/edge-agent.js';
import { EdgeTestBroker } from './helpers/edge-broker.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function setup(config: Record<string, unknown> = {}) {
  const broker = await EdgeTestBroker.create();
  cleanups.push(() => broker.stop());
  const agent = await startTestAgent({ gatewayUrl: broker.url, config });
  cleanups.push(() => agent.stop());
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${agent.ingressUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { broker, agent, post };
}

async function filesUnder(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) text += (await readFile(join(entry.parentPath, entry.name))).toString('latin1');
  }
  return text;
}

describe('edge ingress', () => {
  it('accepts a touchpoint and a device event with 202 and their mid, stamping receipt time when ts is absent', async () => {
    const { broker, post } = await setup();
    const ts = Date.now() - 5000;
    const tap = await post('/v1/touchpoint/mirror-1', { ts, action: 'try_on', label: 'dress-42', value: 3 });
    expect(tap.status).toBe(202);
    expect(tap.body).toEqual({ mid: expect.stringMatching(/^edge-1-[0-9a-f]{8}-1$/) as unknown, ts });
    const before = Date.now();
    const shelf = await post('/v1/device/shelf-shoes', { event: { type: 'shelf', action: 'pick_up', sku: 'SKU-9' } });
    expect(shelf.status).toBe(202);
    expect(Number(shelf.body.ts)).toBeGreaterThanOrEqual(before);
    await eventually(
      () => broker.on('storeloop/demo-store/device/shelf-shoes').length,
      (n) => n === 1,
      'the device event',
    );
    const sent = JSON.parse(broker.on('storeloop/demo-store/device/shelf-shoes')[0]?.payload ?? '{}') as Record<string, unknown>;
    expect(sent).toEqual({ ts: shelf.body.ts, mid: shelf.body.mid, event: { type: 'shelf', action: 'pick_up', sku: 'SKU-9', qty: 1 } });
  });

  it('answers 4xx naming the path of bad input and queues nothing of it', async () => {
    const { agent, post } = await setup();
    expect(await post('/v1/touchpoint/kiosk-1', { action: 'Tap!' })).toMatchObject({
      status: 400,
      body: { code: 'SL_ERR_INGRESS_SCHEMA', error: expect.stringMatching(/^action: /) as unknown },
    });
    expect(await post('/v1/device/counter-door', { event: { type: 'people_count', in: -1, out: 0 } })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^event\.in: /) as unknown },
    });
    expect(await post('/v1/touchpoint/kiosk-1', { action: 'tap', mid: 'mine-1' })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^mid: /) as unknown },
    });
    expect(await post('/v1/touchpoint/kiosk-1', { action: 'tap', colour: 'red' })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^colour: unknown key/) as unknown },
    });
    expect(await post('/v1/touchpoint/kiosk-1', { v: 2, action: 'tap' })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^v: /) as unknown },
    });
    expect(await post('/v1/touchpoint/kiosk-1', [1, 2])).toMatchObject({ status: 400, body: { error: '(body): expected a JSON object' } });
    expect(await post('/v1/touchpoint/kiosk-1', '{"action":')).toMatchObject({ status: 400, body: { code: 'FST_ERR_CTP_INVALID_JSON_BODY' } });
    expect(await post('/v1/ble/ble-entrance', { sightings: [] })).toMatchObject({ status: 404, body: { code: 'SL_ERR_INGRESS_KIND' } });
    expect(await post('/v1/touchpoint/bad%20id', { action: 'tap' })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^sourceId: /) as unknown },
    });
    expect(await post('/v1/touchpoint/kiosk-1', 'x'.repeat(70 * 1024))).toMatchObject({ status: 413 });
    expect(agent.agent.status().queue_depth).toBe(0);
  });

  it('refuses MAC-shaped values wherever they are, and the MAC appears in no answer, log line, queue file or publish', async () => {
    const { broker, agent, post } = await setup();
    const mac = '3c:22:fb:7a:10:9e';
    const answers = [
      await post('/v1/touchpoint/kiosk-1', { action: 'tap', customer: `phone ${mac}` }),
      await post('/v1/touchpoint/kiosk-1', { action: 'tap', label: mac.replace(/:/g, '-') }),
      await post('/v1/device/shelf-shoes', { event: { type: 'shelf', action: 'pick_up', sku: mac.replace(/:/g, '').toUpperCase() } }),
      await post(`/v1/touchpoint/${mac.replace(/:/g, '')}`, { action: 'tap' }),
      await post('/v1/touchpoint/kiosk-1', { action: 'tap', extra: { [mac]: 1 } }),
    ];
    expect(answers.map((a) => a.status)).toEqual([422, 422, 422, 422, 422]);
    expect(answers[0]?.body.error).toMatch(/^customer: a MAC address must not leave the device/);
    expect(answers[2]?.body.error).toMatch(/^event\.sku: /);
    expect(await post('/v1/touchpoint/kiosk-1', { action: 'tap', label: 'fine' })).toMatchObject({ status: 202 });
    await eventually(
      () => broker.on('storeloop/demo-store/touchpoint/kiosk-1').length,
      (n) => n === 1,
      'the good event',
    );
    await agent.agent.stop();
    const everything = [JSON.stringify(answers), agent.logText(), await filesUnder(agent.queueDir), broker.received.map((m) => m.payload).join('\n')]
      .join('\n')
      .toLowerCase();
    for (const spelling of macSpellings(mac)) expect(everything, spelling).not.toContain(spelling.toLowerCase());
  });

  it('asks for the bearer token when one is configured, and honours the source allowlist', async () => {
    const token = 'kiosk-token-0123456789';
    const { post } = await setup({ sources: { ingress: { host: '127.0.0.1', port: 0, token, sourceIds: ['kiosk-1'] } } });
    expect(await post('/v1/touchpoint/kiosk-1', { action: 'tap' })).toMatchObject({ status: 401, body: { code: 'SL_ERR_INGRESS_UNAUTHORIZED' } });
    expect(await post('/v1/touchpoint/kiosk-1', { action: 'tap' }, { authorization: 'Bearer wrong' })).toMatchObject({ status: 401 });
    expect(await post('/v1/touchpoint/kiosk-1', { action: 'tap' }, { authorization: `Bearer ${token}` })).toMatchObject({ status: 202 });
    expect(await post('/v1/touchpoint/mirror-1', { action: 'tap' }, { authorization: `Bearer ${token}` })).toMatchObject({
      status: 404,
      body: { code: 'SL_ERR_INGRESS_SOURCE_UNKNOWN' },
    });
  });
});
