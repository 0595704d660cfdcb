import { describe, expect, it } from 'vitest';

import { StatusMessageSchema } from '../../protocol/index.js';
import type { EdgeQueueStats } from '../queue/edge-queue.js';
import { MAX_DETAIL_CHARS, buildStatus, type StatusInput } from './status-report.js';

const NOW = 1_790_000_000_000;
const queue = (over: Partial<EdgeQueueStats> = {}): EdgeQueueStats => ({
  depth: 0,
  bytes: 0,
  quotaBytes: 1000,
  fillPct: 0,
  oldestQueuedAt: null,
  counts: { enqueued: {}, shed: {}, published: 0, tornTails: 0 },
  ...over,
});
const input = (over: Partial<StatusInput> = {}): StatusInput => ({
  version: '1.2.3',
  startedAt: NOW - 90_500,
  now: NOW,
  queue: queue(),
  shedRawAbovePct: 80,
  sources: [{ name: 'ble:ble-entrance', state: 'ok' }],
  clock: { synced: true, eventsBeforeSync: 0 },
  remoteConfig: { state: 'none' },
  ...over,
});

describe('buildStatus', () => {
  it('is online with the contract fields when all is well', () => {
    const status = buildStatus(input());
    expect(status).toEqual({
      ts: NOW,
      state: 'online',
      version: '1.2.3',
      uptime_s: 91,
      queue_depth: 0,
      queue_bytes: 0,
      clock_synced: true,
      detail: 'sources ble:ble-entrance:ok',
    });
    expect(StatusMessageSchema.safeParse(status).success).toBe(true);
  });

  it('is degraded and says why first: refused config, unsynced clock, sources, shed, torn, backlog', () => {
    const status = buildStatus(
      input({
        queue: queue({
          depth: 12,
          bytes: 900,
          fillPct: 90,
          oldestQueuedAt: NOW - 7_200_000,
          counts: { enqueued: {}, shed: { 'ble/raw_above_threshold': 4 }, published: 0, tornTails: 1 },
        }),
        sources: [{ name: 'meraki', state: 'degraded', detail: 'no POST for 12 min' }],
        clock: { synced: false, eventsBeforeSync: 34 },
        remoteConfig: { state: 'refused', rev: 'r2', detail: 'queue.shedRawAbovePct: Too big' },
      }),
    );
    expect(status.state).toBe('degraded');
    expect(status.clock_synced).toBe(false);
    expect(status.detail).toBe(
      'config rev r2 refused: queue.shedRawAbovePct: Too big; clock unsynced, 34 events stamped before sync; sources meraki:degraded(no POST for 12 min); shed ble/raw_above_threshold=4; torn tails set aside 1; queue 90% oldest 2h',
    );
  });

  it('keeps detail within the contract limit and masks anything MAC-shaped a source reported', () => {
    const sources = Array.from({ length: 20 }, (_, i) => ({ name: `ble:sensor-${i}`, state: 'down' as const, detail: 'device 00:00:5e:00:53:01 lost' }));
    const status = buildStatus(input({ sources }));
    expect(status.detail?.length).toBeLessThanOrEqual(MAX_DETAIL_CHARS);
    expect(status.detail).not.toMatch(/00:00:5e/);
    expect(StatusMessageSchema.safeParse(status).success).toBe(true);
  });
});
