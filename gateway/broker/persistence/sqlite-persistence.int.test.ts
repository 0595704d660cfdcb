import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';

import { testBuild } from '../../../test/helpers/test-build.js';
import { createLogger } from '../../../lib/logger.js';
import type { BrokerPersistence, PersistedPacket } from './broker-persistence.js';
import { SqlitePersistence } from './sqlite-persistence.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SUITE = join(import.meta.dirname, 'abstract-suite.mjs');
const log = createLogger('silent');

async function readAll<T>(stream: AsyncIterable<unknown>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item as T);
  return items;
}

async function tempStateFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-broker-state-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'broker.sqlite');
}

async function open(file: string, brokerId: string): Promise<BrokerPersistence> {
  const persistence = new SqlitePersistence(file, log);
  await persistence.setup({ id: brokerId, counter: 0 });
  return persistence;
}

function publish(topic: string, payload: string, extra: Partial<PersistedPacket> = {}): PersistedPacket {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false, ...extra };
}

describe('SqlitePersistence against the compiled build', () => {
  // the abstract suite and the crash child run on plain node, so they need JavaScript
  const moduleUrl = pathToFileURL(join(testBuild().dist, 'gateway', 'broker', 'persistence', 'sqlite-persistence.js')).href;

  it("passes every test of aedes-persistence's abstract suite, run by node --test", async () => {
    // the number of tests the suite declares, so an empty or partial run cannot pass
    const abstractSource = readFileSync(createRequire(import.meta.url).resolve('aedes-persistence/abstract.js'), 'utf8');
    const declared = abstractSource.match(/^\s*test\('/gm)?.length ?? 0;
    expect(declared).toBeGreaterThanOrEqual(50); // aedes-persistence 11.0.0 declares 50

    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', SUITE], {
      cwd: ROOT,
      env: { ...process.env, STORELOOP_SQLITE_PERSISTENCE_MODULE: moduleUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));

    expect(code, output.slice(-4000)).toBe(0);
    expect(output).toMatch(new RegExp(`^# tests ${declared}$`, 'm'));
    expect(output).toMatch(new RegExp(`^# pass ${declared}$`, 'm'));
    expect(output).toMatch(/^# fail 0$/m);
    expect(output).not.toMatch(/^not ok /m);
  }, 120_000);

  it('keeps what was committed before the process was killed with SIGKILL', async () => {
    const file = await tempStateFile();
    const script = `
      import { pino } from 'pino';
      const { SqlitePersistence } = await import(${JSON.stringify(moduleUrl)});
      const p = new SqlitePersistence(${JSON.stringify(file)}, pino({ level: 'silent' }));
      await p.setup({ id: 'broker-before-crash', counter: 0 });
      await p.addSubscriptions({ id: 'crm-sync' }, [{ topic: 'storeloop/demo-store/status/+', qos: 1 }]);
      await p.storeRetained({ cmd: 'publish', topic: 'storeloop/demo-store/status/edge-1', payload: Buffer.from('online'), qos: 1, retain: true });
      await p.outgoingEnqueueCombi([{ clientId: 'crm-sync' }], { cmd: 'publish', topic: 'storeloop/demo-store/status/edge-1', payload: Buffer.from('online'), qos: 1, brokerId: 'broker-before-crash', brokerCounter: 1 });
      await p.putWill({ id: 'edge-1' }, { cmd: 'publish', topic: 'storeloop/demo-store/status/edge-1', payload: Buffer.from('offline'), qos: 1, retain: true });
      process.kill(process.pid, 'SIGKILL'); // no destroy(), no WAL checkpoint: a crash
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    expect(signal, output).toBe('SIGKILL');
    expect(existsSync(`${file}-wal`), 'the commits are in the WAL, not yet checkpointed').toBe(true);

    const reopened = await open(file, 'broker-after-crash');
    onTestFinished(() => reopened.destroy());
    expect(await reopened.subscriptionsByClient({ id: 'crm-sync' })).toMatchObject([{ topic: 'storeloop/demo-store/status/+', qos: 1 }]);
    const retained = await readAll<PersistedPacket>(reopened.createRetainedStream('storeloop/demo-store/status/+'));
    expect(retained.map((p) => String(p.payload))).toEqual(['online']);
    const queued = await readAll<PersistedPacket>(reopened.outgoingStream({ id: 'crm-sync' }));
    expect(queued.map((p) => String(p.payload))).toEqual(['online']);
    const wills = await readAll<PersistedPacket>(reopened.streamWill({ 'broker-after-crash': Date.now() }));
    expect(wills.map((w) => [w.clientId, w.brokerId, String(w.payload)])).toEqual([['edge-1', 'broker-before-crash', 'offline']]);
  }, 60_000);
});

describe('SqlitePersistence', () => {
  it('restores sessions, retained messages, queued deliveries, QoS 2 packets and wills after a reopen', async () => {
    const file = await tempStateFile();
    const first = await open(file, 'broker-a');
    await first.addSubscriptions({ id: 'crm-sync' }, [
      { topic: 'storeloop/demo-store/status/+', qos: 1, rh: 0, rap: false, nl: false },
      { topic: 'storeloop/demo-store/touchpoint/#', qos: 0 },
    ]);
    await first.storeRetained(publish('storeloop/demo-store/status/edge-1', '{"state":"online"}', { retain: true }));
    await first.storeRetained(publish('storeloop/demo-store/status/kiosk-1', '{"state":"online"}', { retain: true }));
    await first.storeRetained(publish('storeloop/demo-store/status/kiosk-1', '', { retain: true })); // an empty payload clears it
    await first.outgoingEnqueueCombi(
      [{ clientId: 'crm-sync' }],
      publish('storeloop/demo-store/status/edge-1', 'one', { brokerId: 'broker-a', brokerCounter: 7 }),
    );
    await first.outgoingEnqueueCombi(
      [{ clientId: 'crm-sync' }],
      publish('storeloop/demo-store/status/edge-1', 'two', { brokerId: 'broker-a', brokerCounter: 8 }),
    );
    await first.outgoingUpdate(
      { id: 'crm-sync' },
      publish('storeloop/demo-store/status/edge-1', 'one', { brokerId: 'broker-a', brokerCounter: 7, messageId: 42 }),
    );
    await first.incomingStorePacket({ id: 'edge-1' }, publish('storeloop/demo-store/status/edge-1', 'qos2', { qos: 2, messageId: 9 }));
    await first.putWill({ id: 'edge-1' }, publish('storeloop/demo-store/status/edge-1', '{"state":"offline"}', { retain: true }));
    await first.destroy();

    const second = await open(file, 'broker-b');
    onTestFinished(() => second.destroy());
    expect(await second.subscriptionsByClient({ id: 'crm-sync' })).toEqual([
      { topic: 'storeloop/demo-store/status/+', qos: 1, rh: 0, rap: false, nl: false },
      { topic: 'storeloop/demo-store/touchpoint/#', qos: 0, rh: undefined, rap: undefined, nl: undefined },
    ]);
    // only QoS > 0 subscriptions are matched for offline delivery, as in aedes' in-memory persistence
    expect(await second.subscriptionsByTopic('storeloop/demo-store/status/edge-1')).toMatchObject([{ clientId: 'crm-sync', qos: 1 }]);
    expect(await second.subscriptionsByTopic('storeloop/demo-store/touchpoint/kiosk-1')).toEqual([]);
    expect(await second.countOffline()).toEqual({ subsCount: 1, clientsCount: 1 });

    const retained = await readAll<PersistedPacket>(second.createRetainedStreamCombi(['storeloop/#']));
    expect(retained.map((p) => [p.topic, String(p.payload)])).toEqual([['storeloop/demo-store/status/edge-1', '{"state":"online"}']]);

    const queued = await readAll<PersistedPacket>(second.outgoingStream({ id: 'crm-sync' }));
    expect(queued.map((p) => [String(p.payload), p.messageId, p.brokerId, p.brokerCounter])).toEqual([
      ['one', 42, 'broker-a', 7],
      ['two', undefined, 'broker-a', 8],
    ]);
    // the PUBACK for messageId 42 clears the first one, as after a reconnect
    expect(String((await second.outgoingClearMessageId({ id: 'crm-sync' }, { cmd: 'puback', messageId: 42 }))?.payload)).toBe('one');
    expect(await readAll(second.outgoingStream({ id: 'crm-sync' }))).toHaveLength(1);

    expect(String((await second.incomingGetPacket({ id: 'edge-1' }, { messageId: 9 })).payload)).toBe('qos2');

    const will = await second.getWill({ id: 'edge-1' });
    expect([will?.brokerId, will?.clientId, String(will?.payload)]).toEqual(['broker-a', 'edge-1', '{"state":"offline"}']);
    // broker-a is gone: its wills are due for publishing by broker-b
    expect(await readAll(second.streamWill({ 'broker-b': Date.now() }))).toHaveLength(1);
  });

  it('keeps queue order and messageIds when a PUBREL takes over a queued slot', async () => {
    const file = await tempStateFile();
    const first = await open(file, 'broker-a');
    await first.outgoingEnqueue({ clientId: 'c' }, publish('t', 'p1', { qos: 2, brokerId: 'broker-a', brokerCounter: 1 }));
    await first.outgoingEnqueue({ clientId: 'c' }, publish('t', 'p2', { qos: 2, brokerId: 'broker-a', brokerCounter: 2 }));
    await first.outgoingUpdate({ id: 'c' }, publish('t', 'p1', { qos: 2, brokerId: 'broker-a', brokerCounter: 1, messageId: 5 }));
    await first.outgoingUpdate({ id: 'c' }, { cmd: 'pubrel', messageId: 5 });
    await first.destroy();

    const second = await open(file, 'broker-b');
    onTestFinished(() => second.destroy());
    const queued = await readAll<PersistedPacket>(second.outgoingStream({ id: 'c' }));
    expect(queued.map((p) => [p.cmd, p.messageId, p.payload === undefined ? null : String(p.payload)])).toEqual([
      ['pubrel', 5, null],
      ['publish', undefined, 'p2'],
    ]);
    await expect(second.outgoingUpdate({ id: 'c' }, publish('t', 'p9', { brokerId: 'broker-b', brokerCounter: 1, messageId: 77 }))).rejects.toMatchObject({
      code: 'SL_ERR_BROKER_STATE_NO_PACKET',
    });
  });

  it('refuses a second opener of the same state file while the first holds it', async () => {
    const file = await tempStateFile();
    const first = await open(file, 'broker-a');
    expect(() => new SqlitePersistence(file, log)).toThrow(
      expect.objectContaining({ code: 'SL_ERR_BROKER_STATE_OPEN', message: expect.stringMatching(/another gateway/) }),
    );
    await first.destroy();
    const second = await open(file, 'broker-b');
    await second.destroy();
  });

  it('refuses a state file written by a newer schema version', async () => {
    const file = await tempStateFile();
    mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqlitePersistence(file, log)).toThrow(
      expect.objectContaining({ code: 'SL_ERR_BROKER_STATE_OPEN', context: expect.objectContaining({ version: 99 }) }),
    );
  });

  it('keeps when each persistent session was last seen across a reopen, and drops a session whole', async () => {
    const file = await tempStateFile();
    const first = await open(file, 'broker-a');
    await first.recordSessions([
      ['crm-sync', 1_000],
      ['edge-1', 2_000],
    ]);
    await first.recordSessions([['crm-sync', 5_000]]);
    for (const id of ['crm-sync', 'edge-1']) {
      await first.addSubscriptions({ id }, [{ topic: 'storeloop/demo-store/status/+', qos: 1 }]);
      await first.outgoingEnqueueCombi(
        [{ clientId: id }],
        publish('storeloop/demo-store/status/kiosk-1', 'queued', { brokerId: 'broker-a', brokerCounter: 1 }),
      );
      await first.putWill({ id }, publish('storeloop/demo-store/status/kiosk-1', 'offline', { retain: true }));
      await first.incomingStorePacket({ id }, publish('storeloop/demo-store/status/kiosk-1', 'qos2', { qos: 2, messageId: 3 }));
    }
    await first.destroy();

    const second = await open(file, 'broker-b');
    onTestFinished(() => second.destroy());
    expect(await second.loadSessions(9_000)).toEqual(
      new Map([
        ['crm-sync', 5_000],
        ['edge-1', 2_000],
      ]),
    );
    await second.dropSession('edge-1');
    expect(await second.subscriptionsByClient({ id: 'edge-1' })).toEqual([]);
    expect(await second.subscriptionsByTopic('storeloop/demo-store/status/kiosk-1')).toMatchObject([{ clientId: 'crm-sync' }]);
    expect(await readAll(second.outgoingStream({ id: 'edge-1' }))).toEqual([]);
    expect(await second.getWill({ id: 'edge-1' })).toBeUndefined();
    await expect(second.incomingGetPacket({ id: 'edge-1' }, { messageId: 3 })).rejects.toMatchObject({ code: 'SL_ERR_BROKER_STATE_NO_PACKET' });
    expect(await readAll(second.outgoingStream({ id: 'crm-sync' }))).toHaveLength(1);
    await second.forgetSession('crm-sync');
    expect(await second.loadSessions(9_000)).toEqual(new Map([['crm-sync', 9_000]])); // its subscriptions remain: seen now
  });

  it('upgrades a schema version 1 file: the sessions it holds count as seen at the upgrade', async () => {
    const file = await tempStateFile();
    const first = await open(file, 'broker-a');
    await first.addSubscriptions({ id: 'crm-sync' }, [{ topic: 'storeloop/demo-store/status/+', qos: 1 }]);
    await first.destroy();
    const db = new Database(file);
    db.exec('DROP TABLE sessions');
    db.pragma('user_version = 1');
    db.close();

    const before = Date.now();
    const second = await open(file, 'broker-b');
    onTestFinished(() => second.destroy());
    const sessions = await second.loadSessions(0);
    expect([...sessions.keys()]).toEqual(['crm-sync']);
    expect(sessions.get('crm-sync')).toBeGreaterThanOrEqual(before - 1_000);
    expect(await second.subscriptionsByClient({ id: 'crm-sync' })).toHaveLength(1);
  });

  it('rejects every call after destroy() with SL_ERR_BROKER_STATE_CLOSED', async () => {
    const persistence = await open(await tempStateFile(), 'broker-a');
    await persistence.destroy();
    await persistence.destroy(); // a second destroy is harmless
    await expect(persistence.storeRetained(publish('t', 'x', { retain: true }))).rejects.toMatchObject({ code: 'SL_ERR_BROKER_STATE_CLOSED' });
    await expect(persistence.delWill({ id: 'edge-1' })).rejects.toMatchObject({ code: 'SL_ERR_BROKER_STATE_CLOSED' });
    await expect(persistence.subscriptionsByTopic('t')).rejects.toMatchObject({ code: 'SL_ERR_BROKER_STATE_CLOSED' });
  });
});
