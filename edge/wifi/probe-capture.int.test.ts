import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';

import { ensureProgram } from '../../devtools/ensure-program.js';
import { createLogger } from '../../lib/logger.js';
import { WifiMessageSchema } from '../../protocol/index.js';
import { findLeaks, macSpellings } from '../pseudonymise/leak-scan.js';
import { createPseudonymiser } from '../pseudonymise/pseudonymiser.js';
import type { SourcePayload } from '../types.js';
import { createProbeCapture, type ProbeCapture, type ProbeCaptureOptions } from './probe-capture.js';

const PCAP = '/work/shared/samples/probe-requests.pcap';
const S = 1717768800; // 2024-06-07T14:00:00Z

/** Ground truth of probe-requests.md: seconds after S, source MAC, RSSI, locally administered, device. */
const FRAMES: Array<[number, string, number, boolean, string]> = [
  [0.1024, '00:00:5e:00:53:11', -48, false, 'D1'],
  [1.25, '02:00:5e:00:53:a1', -71, true, 'D3'],
  [1.270512, '02:00:5e:00:53:a1', -73, true, 'D3'],
  [3.5, '00:00:5e:00:53:22', -62, false, 'D2'],
  [3.52025, '00:00:5e:00:53:22', -63, false, 'D2'],
  [5.000125, 'da:00:5e:00:53:b1', -57, true, 'D4'],
  [5.02, 'da:00:5e:00:53:b1', -58, true, 'D4'],
  [9.875, '00:00:5e:00:53:33', -86, false, 'D5'],
  [15.1024, '00:00:5e:00:53:11', -49, false, 'D1'],
  [21.4, '06:00:5e:00:53:a2', -72, true, 'D3'],
  [21.421875, '06:00:5e:00:53:a2', -74, true, 'D3'],
  [24, '00:00:5e:00:53:22', -65, false, 'D2'],
  [25.6, '00:00:5e:00:53:33', -85, false, 'D5'],
  [30.1024, '00:00:5e:00:53:11', -50, false, 'D1'],
  [34.75, '5e:00:5e:00:53:b2', -59, true, 'D4'],
  [34.77, '5e:00:5e:00:53:b2', -60, true, 'D4'],
  [41.333333, '00:00:5e:00:53:33', -88, false, 'D5'],
  [45.1024, '00:00:5e:00:53:11', -52, false, 'D1'],
  [48, '00:00:5e:00:53:22', -67, false, 'D2'],
  [52.125, '0a:00:5e:00:53:a3', -75, true, 'D3'],
];
const SSIDS = ['StoreOps', 'CoffeeShop', 'StoreGuest'];
const MACS = [...new Set(FRAMES.map((f) => f[1]))];

const pseudonymiser = createPseudonymiser({ mode: 'daily', secret: 'retailer-secret-for-tests-0123456789', timezone: 'Europe/London' });

/** What the table says a 1 s batcher must send: per second, each MAC once with its strongest RSSI. */
function expectedPerSecond(): Array<{ ts: number; observations: Array<{ id: string; rssi: number; randomized: boolean }> }> {
  const bySecond = new Map<number, Map<string, { id: string; rssi: number; randomized: boolean }>>();
  for (const [offset, mac, rssi, randomized] of FRAMES) {
    const second = Math.floor(offset);
    const atMs = Math.floor((S + offset) * 1000);
    const devices = bySecond.get(second) ?? new Map();
    const held = devices.get(mac);
    if (held === undefined || rssi > held.rssi) devices.set(mac, { id: pseudonymiser.pseudonymise('wifi-mac', mac, atMs), rssi, randomized });
    bySecond.set(second, devices);
  }
  return [...bySecond].map(([second, devices]) => ({ ts: (S + second + 1) * 1000, observations: [...devices.values()] }));
}

interface Run {
  source: ProbeCapture;
  emitted: SourcePayload[];
  logs: () => string;
}

async function startCapture(overrides: Partial<ProbeCaptureOptions> = {}): Promise<Run> {
  const chunks: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) });
  const source = createProbeCapture({ sourceId: 'wifi-probes', input: { file: PCAP }, pseudonymiser, log: createLogger('debug', sink), ...overrides });
  const emitted: SourcePayload[] = [];
  await source.start((m) => emitted.push(m));
  onTestFinished(() => source.stop());
  return { source, emitted, logs: () => chunks.join('') };
}

function wifiPayloads(emitted: SourcePayload[]) {
  return emitted.map((m) => {
    if (m.kind !== 'wifi') throw new Error(`unexpected ${m.kind} payload`);
    return m.payload;
  });
}

function leakNeedles(): string[] {
  const ssidHex = SSIDS.map((s) => Buffer.from(s, 'ascii').toString('hex'));
  return [...MACS.flatMap((mac) => macSpellings(mac)), ...SSIDS, ...ssidHex];
}

beforeAll(() => {
  ensureProgram('tshark', 'tshark', (line) => process.stderr.write(`${line}\n`));
});

describe('probe capture from a file (real tshark)', () => {
  it('emits one payload per second of capture time, each device once with its strongest signal', async () => {
    const run = await startCapture();
    await run.source.finished();
    const payloads = wifiPayloads(run.emitted);
    // 20 probe requests fall into 15 distinct seconds (probe-requests.md)
    expect(payloads).toHaveLength(15);
    expect(payloads).toEqual(expectedPerSecond());
    expect(payloads.flatMap((p) => p.observations)).toHaveLength(15);
    expect(run.emitted.every((m) => m.sourceId === 'wifi-probes')).toBe(true);
    payloads.forEach((p, i) => expect(WifiMessageSchema.safeParse({ ...p, mid: `agent-1-${i}` }).success, `payload ${i}`).toBe(true));
    expect(run.source.stats()).toMatchObject({ linesRead: 20, framesAccepted: 20, lateFrames: 0, observationsEmitted: 15, payloadsEmitted: 15, exitCode: 0 });
    expect(run.source.health()).toMatchObject({ state: 'ok', detail: expect.stringContaining('finished reading the file') });
  });

  it('counts 8 source MACs, 5 of them randomized, as the table does', async () => {
    const run = await startCapture({ intervalMs: 60_000 });
    await run.source.finished();
    const payloads = wifiPayloads(run.emitted);
    // the whole capture lies in 14:00:00-14:01:00: one payload holding every MAC once
    expect(payloads.map((p) => p.ts)).toEqual([(S + 60) * 1000]);
    const observations = payloads[0]?.observations ?? [];
    expect(observations).toHaveLength(8);
    expect(observations.filter((o) => o.randomized)).toHaveLength(5);
    const strongest = new Map<string, { rssi: number; randomized: boolean }>();
    for (const [, mac, rssi, randomized] of FRAMES) if ((strongest.get(mac)?.rssi ?? -999) < rssi) strongest.set(mac, { rssi, randomized });
    for (const [mac, { rssi, randomized }] of strongest) {
      expect(observations).toContainEqual({ id: pseudonymiser.pseudonymise('wifi-mac', mac, S * 1000), rssi, randomized });
    }
    // a rotating phone is not linked across its MACs: D3's three addresses are three pseudonyms
    const d3 = MACS.filter((mac) => FRAMES.some((f) => f[1] === mac && f[4] === 'D3')).map((mac) => pseudonymiser.pseudonymise('wifi-mac', mac, S * 1000));
    expect(new Set(d3).size).toBe(3);
  });

  it('never emits or logs an SSID or a raw MAC', async () => {
    const run = await startCapture();
    await run.source.finished();
    await run.source.stop();
    expect(run.logs()).toContain('probe capture file read');
    expect(run.logs()).toContain('probe intervals sent');
    const everything = [JSON.stringify(run.emitted), run.logs(), JSON.stringify(run.source.stats()), JSON.stringify(run.source.health())].join('\n');
    expect(findLeaks(everything, leakNeedles())).toEqual([]);
    // control: tshark itself does print them when asked, so the absence above is the parser's doing
    const raw = spawnSync('tshark', ['-n', '-r', PCAP, '-T', 'fields', '-e', 'wlan.sa', '-e', 'wlan.ssid'], { encoding: 'utf8' }).stdout;
    expect(findLeaks(raw, ['00:00:5e:00:53:11', '53746f72654f7073'])).toHaveLength(2);
  });

  it('reports down with the install line when tshark is missing, and finishes', async () => {
    const run = await startCapture({ tsharkPath: '/nonexistent/bin/tshark' });
    await run.source.finished();
    expect(run.source.health()).toMatchObject({
      state: 'down',
      detail: expect.stringContaining("tshark not found at '/nonexistent/bin/tshark': install it with: apt-get install -y tshark"),
    });
    expect(run.emitted).toEqual([]);
  });

  it('reports down with tshark’s reason when the file cannot be read', async () => {
    const run = await startCapture({ input: { file: '/nonexistent/capture.pcap' } });
    await run.source.finished();
    expect(run.source.stats().exitCode).toBe(2);
    expect(run.source.health()).toMatchObject({
      state: 'down',
      detail: expect.stringMatching(/tshark exited with code 2: tshark: The file "\/nonexistent\/capture.pcap" doesn't exist/),
    });
  });
});

describe('probe capture from a live interface (real dumpcap | tshark)', () => {
  it('captures a live interface through dumpcap as frames arrive, batches like the file, and spools nothing to disk', async () => {
    // a FIFO stands in for the monitor interface: dumpcap captures from it as from a live device
    const dir = mkdtempSync(join(tmpdir(), 'probe-iface-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const iface = join(dir, 'monitor.fifo');
    expect(spawnSync('mkfifo', [iface]).status).toBe(0);
    const spoolsBefore = wiresharkTempFiles();
    // quietFlushMs well above the time a burst takes to go through, so no interval is cut short
    const run = await startCapture({ input: { interface: iface }, quietFlushMs: 1500 });
    const pcap = readFileSync(PCAP);
    const split = pcapOffsetAfter(pcap, 8); // frames 1-8: 14:00:00.1 to 14:00:09.875
    // opening a FIFO for writing waits (in libuv's thread pool) until dumpcap opens it for reading
    const feed = createWriteStream(iface);
    feed.write(pcap.subarray(0, split));
    // while the capture is still open, the first five seconds' intervals arrive
    await vi.waitFor(() => expect(run.source.stats().payloadsEmitted).toBe(5), { timeout: 20_000, interval: 100 });
    expect(run.source.stats().linesRead).toBe(8);
    expect(wiresharkTempFiles().filter((f) => !spoolsBefore.includes(f))).toEqual([]);
    await new Promise<void>((resolve, reject) => feed.end(pcap.subarray(split), () => resolve()).once('error', reject));
    await vi.waitFor(() => expect(run.source.stats().payloadsEmitted).toBe(15), { timeout: 20_000, interval: 100 });
    expect(wifiPayloads(run.emitted)).toEqual(expectedPerSecond());
    await run.source.stop();
    expect(run.source.health()).toMatchObject({ state: 'down', detail: expect.stringContaining('stopped') });
    expect(findLeaks([JSON.stringify(run.emitted), run.logs()].join('\n'), leakNeedles())).toEqual([]);
  });

  it('reports down with dumpcap’s reason for a missing interface and keeps retrying until stopped', async () => {
    const run = await startCapture({ input: { interface: 'nosuch0' }, restartMinMs: 50, restartMaxMs: 100 });
    await vi.waitFor(
      () => {
        expect(run.source.stats().restarts).toBeGreaterThanOrEqual(2);
        expect(run.source.health()).toMatchObject({
          state: 'down',
          detail: expect.stringMatching(/dumpcap exited with code 1: dumpcap: There is no device named "nosuch0".*restarting in/),
        });
      },
      { timeout: 20_000, interval: 20 },
    );
    await run.source.stop();
    expect(run.source.health().detail).toContain('stopped');
  });
});

describe('settings', () => {
  it('refuses a consented pseudonymiser, a MAC-shaped source id and a missing input', () => {
    const log = createLogger('silent');
    const base = { sourceId: 'wifi-probes', input: { file: PCAP }, pseudonymiser, log };
    expect(() =>
      createProbeCapture({ ...base, pseudonymiser: createPseudonymiser({ mode: 'consented', secret: 'retailer-secret-for-tests-0123456789' }) }),
    ).toThrow(expect.objectContaining({ code: 'SL_ERR_PROBE_CONFIG' }));
    expect(() => createProbeCapture({ ...base, sourceId: '00-00-5e-00-53-11' })).toThrow(/sourceId: a source id must not be a MAC address/);
    expect(() => createProbeCapture({ ...base, input: {} as never })).toThrow(/input/);
  });
});

function wiresharkTempFiles(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('wireshark_'));
}

/** Byte offset in a pcap file after its first n records (24-byte header, 16-byte record headers). */
function pcapOffsetAfter(pcap: Buffer, n: number): number {
  let offset = 24;
  for (let i = 0; i < n; i += 1) offset += 16 + pcap.readUInt32LE(offset + 8);
  return offset;
}
