import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import { createMemoryPersistence, type BrokerPersistence } from './persistence/index.js';
import { SessionLimits } from './session-limits.js';

const HOUR_MS = 3_600_000;

interface Harness {
  limits: SessionLimits;
  store: BrokerPersistence;
  clock: { now: number };
  connected: Set<string>;
  expired: () => number;
  logs: Array<Record<string, unknown>>;
}

async function harness(options: { maxSessions?: number; store?: BrokerPersistence; now?: number } = {}): Promise<Harness> {
  const store = options.store ?? createMemoryPersistence();
  if (options.store === undefined) await store.setup({ id: 'broker-1', counter: 0 });
  const clock = { now: options.now ?? 1_000_000 };
  const connected = new Set<string>();
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  let expired = 0;
  const limits = new SessionLimits(
    { maxSessions: options.maxSessions ?? 3, expiryMs: 24 * HOUR_MS, checkIntervalMs: HOUR_MS, now: () => clock.now },
    createLogger('info', sink),
    () => (expired += 1),
  );
  await limits.start(store, (id) => connected.has(id));
  return { limits, store, clock, connected, expired: () => expired, logs };
}

async function subscribeAndQueue(store: BrokerPersistence, clientId: string): Promise<void> {
  await store.addSubscriptions({ id: clientId }, [{ topic: 'storeloop/s1/+/+', qos: 1 }]);
  await store.outgoingEnqueueCombi([{ clientId }], {
    cmd: 'publish',
    topic: 'storeloop/s1/ble/b1',
    payload: Buffer.from('{}'),
    qos: 1,
    brokerId: 'broker-1',
    brokerCounter: 1,
  });
  await store.putWill({ id: clientId }, { cmd: 'publish', topic: 'storeloop/s1/status/b1', payload: Buffer.from('offline'), qos: 1, retain: true });
  await store.incomingStorePacket({ id: clientId }, { cmd: 'publish', topic: 'storeloop/s1/ble/b1', payload: Buffer.from('{}'), qos: 2, messageId: 7 });
}

async function queued(store: BrokerPersistence, clientId: string): Promise<number> {
  let count = 0;
  for await (const _packet of store.outgoingStream({ id: clientId })) count += 1;
  return count;
}

describe('SessionLimits', () => {
  it('refuses a new persistent session beyond the cap, and still lets a kept one back in', async () => {
    const { limits } = await harness({ maxSessions: 2 });
    expect(await limits.admit('kiosk-1', false)).toBe('admitted');
    expect(await limits.admit('kiosk-2', false)).toBe('admitted');
    expect(await limits.admit('kiosk-3', false)).toBe('too_many_sessions');
    expect(await limits.admit('kiosk-1', false)).toBe('admitted');
    expect(await limits.admit('passer-by', true)).toBe('admitted'); // clean sessions are not capped
    expect(limits.size).toBe(2);
    await limits.stop();
  });

  it('counts concurrent CONNECTs against the cap before any of them is recorded', async () => {
    const { limits } = await harness({ maxSessions: 2 });
    const verdicts = await Promise.all(['a', 'b', 'c', 'd'].map((id) => limits.admit(id, false)));
    expect(verdicts.filter((v) => v === 'admitted')).toHaveLength(2);
    await limits.stop();
  });

  it('frees the place of a session that a clean CONNECT with its client id ends', async () => {
    const { limits, store } = await harness({ maxSessions: 1 });
    await limits.admit('kiosk-1', false);
    expect(await limits.admit('kiosk-2', false)).toBe('too_many_sessions');
    await limits.admit('kiosk-1', true);
    expect((await store.loadSessions(0)).has('kiosk-1')).toBe(false);
    expect(await limits.admit('kiosk-2', false)).toBe('admitted');
    await limits.stop();
  });

  it('removes a session whose client was away longer than the expiry, whole, and keeps one inside it', async () => {
    const { limits, store, clock, expired, logs } = await harness();
    await limits.admit('away-long', false);
    await subscribeAndQueue(store, 'away-long');
    limits.left('away-long', false);
    clock.now += 10 * HOUR_MS;
    await limits.admit('away-short', false);
    await subscribeAndQueue(store, 'away-short');
    limits.left('away-short', false);
    clock.now += 15 * HOUR_MS; // away-long: 25 h, away-short: 15 h

    expect(await limits.expire()).toBe(1);
    expect(expired()).toBe(1);
    expect(limits.size).toBe(1);
    expect(await store.subscriptionsByClient({ id: 'away-long' })).toEqual([]);
    expect(await queued(store, 'away-long')).toBe(0);
    expect(await store.getWill({ id: 'away-long' })).toBeUndefined();
    await expect(store.incomingGetPacket({ id: 'away-long' }, { messageId: 7 })).rejects.toThrow();
    expect(await store.subscriptionsByTopic('storeloop/s1/ble/b1')).toEqual([expect.objectContaining({ clientId: 'away-short' })]);
    expect(await queued(store, 'away-short')).toBe(1);
    expect(await store.getWill({ id: 'away-short' })).toBeDefined();

    const line = logs.find((l) => String(l.msg).startsWith('persistent session expired'));
    expect(line).toMatchObject({ level: 30, clientId: 'away-long', awaySeconds: 25 * 3600 });
    await limits.stop();
  });

  it('never expires a session whose client is connected, and counts its time from the check', async () => {
    const { limits, clock, connected } = await harness();
    await limits.admit('online', false);
    connected.add('online');
    clock.now += 30 * HOUR_MS;
    expect(await limits.expire()).toBe(0);
    connected.delete('online'); // gone without a clean close (a crash): away since the last check
    clock.now += 23 * HOUR_MS;
    expect(await limits.expire()).toBe(0);
    clock.now += 2 * HOUR_MS;
    expect(await limits.expire()).toBe(1);
    await limits.stop();
  });

  it('treats an expired client that comes back as new: no session, and it needs a free place', async () => {
    const { limits, store, clock } = await harness({ maxSessions: 1 });
    await limits.admit('kiosk-1', false);
    await subscribeAndQueue(store, 'kiosk-1');
    limits.left('kiosk-1', false);
    clock.now += 25 * HOUR_MS;
    await limits.expire();
    expect(await limits.admit('kiosk-2', false)).toBe('admitted');
    expect(await limits.admit('kiosk-1', false)).toBe('too_many_sessions');
    await limits.stop();
  });

  it('removes at start the sessions that expired while the broker was down', async () => {
    const store = createMemoryPersistence();
    await store.setup({ id: 'broker-1', counter: 0 });
    await store.recordSessions([
      ['left-long-ago', 0],
      ['left-recently', 20 * HOUR_MS],
    ]);
    await subscribeAndQueue(store, 'left-long-ago');
    const { limits, expired } = await harness({ store, now: 30 * HOUR_MS });
    expect(expired()).toBe(1);
    expect(limits.size).toBe(1);
    expect(await store.subscriptionsByClient({ id: 'left-long-ago' })).toEqual([]);
    await limits.stop();
  });

  it('logs a masked client id when the id is a MAC address', async () => {
    const { limits, clock, logs } = await harness();
    await limits.admit('aa:bb:cc:dd:ee:05', false);
    limits.left('aa:bb:cc:dd:ee:05', false);
    clock.now += 25 * HOUR_MS;
    await limits.expire();
    expect(JSON.stringify(logs)).not.toContain('aa:bb:cc:dd:ee:05');
    await limits.stop();
  });
});
