import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import type { ExperienceEvent } from './derived-record.js';
import { DerivedLog } from './derived-log.js';
import { EventLog } from './event-log.js';
import { MessageIndex } from './message-index.js';

const log = createLogger('silent');
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function parts(): Promise<{ eventLog: EventLog; index: MessageIndex }> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-derived-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const eventLog = new EventLog({ dir: join(dir, 'log'), quotaBytes: 1024 ** 2, segmentBytes: 64 * 1024, replayRetentionMs: 0, backpressureHoldMs: 0, log });
  await eventLog.open();
  cleanups.push(() => eventLog.close());
  const index = new MessageIndex({ file: join(dir, 'index.sqlite'), dedupWindowMs: 3_600_000, log });
  index.open();
  cleanups.push(() => index.close());
  return { eventLog, index };
}

const stay = (i: number, enter: number): ExperienceEvent => ({
  type: 'zone_stay',
  id: `visit-a/stay-${i}`,
  visitId: 'visit-a',
  visitor: 'dev:a',
  zone: 'entrance',
  enter,
  exit: enter + 40_000,
  passing: false,
  confidence: null,
  definition: 'zone-stay/1',
  params: 'p',
});

describe('DerivedLog', () => {
  it('appends each event once: a second append of the same id is recognised, and events at the same millisecond get their own slots', async () => {
    const { eventLog, index } = await parts();
    const derived = new DerivedLog({ eventLog, index });
    const t = Date.UTC(2026, 10, 30, 10);
    expect(await derived.append('demo', [stay(0, t), stay(1, t)])).toEqual({ appended: 2, duplicates: 0 });
    expect(await derived.append('demo', [stay(1, t), stay(2, t + 1)])).toEqual({ appended: 1, duplicates: 1 });
    const records = await eventLog.read(1, 10, 1024 ** 2);
    expect(records.map((r) => [r.kind, r.mid, r.eventTime - t, r.source.sourceId, r.source.role])).toEqual([
      ['experience', 'visit-a/stay-0', 0, 'experience-engine', 'engine'],
      ['experience', 'visit-a/stay-1', 0, 'experience-engine', 'engine'],
      ['experience', 'visit-a/stay-2', 1, 'experience-engine', 'engine'],
    ]);
    expect(records[0]?.slot.offset).not.toBe(records[1]?.slot.offset);
  });
});
