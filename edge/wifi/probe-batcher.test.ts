import { describe, expect, it } from 'vitest';

import { PseudonymSchema, type Pseudonym } from '../../protocol/index.js';
import { ProbeBatcher } from './probe-batcher.js';

const id = (n: number): Pseudonym => PseudonymSchema.parse(`device-pseudonym-${String(n).padStart(6, '0')}`);
const T0 = 1717768800000;

describe('ProbeBatcher', () => {
  it('keeps each device once per interval with its strongest signal, stamped with the interval end', () => {
    const b = new ProbeBatcher('wifi-probes', 1000);
    b.add({ atMs: T0 + 250, id: id(1), rssi: -71, randomized: true });
    b.add({ atMs: T0 + 270, id: id(1), rssi: -69, randomized: true });
    b.add({ atMs: T0 + 300, id: id(1), rssi: -80, randomized: true });
    b.add({ atMs: T0 + 999, id: id(2), rssi: -50, randomized: false });
    expect(b.flushAll()).toEqual([
      {
        kind: 'wifi',
        sourceId: 'wifi-probes',
        payload: {
          ts: T0 + 1000,
          observations: [
            { id: id(1), rssi: -69, randomized: true },
            { id: id(2), rssi: -50, randomized: false },
          ],
        },
      },
    ]);
  });

  it('flushes only intervals that have ended by the cutoff, oldest first', () => {
    const b = new ProbeBatcher('wifi-probes', 1000);
    b.add({ atMs: T0 + 3500, id: id(3), rssi: -60, randomized: false });
    b.add({ atMs: T0 + 1000, id: id(1), rssi: -60, randomized: false });
    b.add({ atMs: T0 + 2100, id: id(2), rssi: -60, randomized: false });
    expect(b.watermarkMs).toBe(T0 + 3500);
    expect(b.flushUntil(T0 + 2999).map((p) => p.payload.ts)).toEqual([T0 + 2000]);
    expect(b.flushUntil(T0 + 3000).map((p) => p.payload.ts)).toEqual([T0 + 3000]);
    expect(b.pendingIntervals).toBe(1);
    expect(b.flushAll().map((p) => p.payload.ts)).toEqual([T0 + 4000]);
    expect(b.pendingIntervals).toBe(0);
  });

  it('reports a frame whose interval was sent already as late and sends it on its own', () => {
    const b = new ProbeBatcher('wifi-probes', 1000);
    b.add({ atMs: T0 + 100, id: id(1), rssi: -60, randomized: false });
    expect(b.flushUntil(T0 + 1000)).toHaveLength(1);
    expect(b.add({ atMs: T0 + 900, id: id(2), rssi: -61, randomized: false })).toEqual({ late: true });
    expect(b.add({ atMs: T0 + 1100, id: id(2), rssi: -61, randomized: false })).toEqual({ late: false });
    expect(b.flushAll().map((p) => p.payload.ts)).toEqual([T0 + 1000, T0 + 2000]);
  });

  it('splits an interval with more devices than a message may carry', () => {
    const b = new ProbeBatcher('wifi-probes', 1000);
    for (let n = 0; n < 2500; n += 1) b.add({ atMs: T0, id: id(n), rssi: -70, randomized: true });
    const payloads = b.flushAll();
    expect(payloads.map((p) => (p.kind === 'wifi' ? p.payload.observations.length : 0))).toEqual([1000, 1000, 500]);
    expect(new Set(payloads.map((p) => p.payload.ts))).toEqual(new Set([T0 + 1000]));
  });
});
