import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { ConsentRegistry, type ConsentChangeInput } from './consent-registry.js';

async function registries(): Promise<{ file: string; open(): ConsentRegistry }> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-consent-'));
  const opened: ConsentRegistry[] = [];
  onTestFinished(async () => {
    for (const r of opened) r.close();
    await rm(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'consent.sqlite');
  return {
    file,
    open: () => {
      const registry = new ConsentRegistry(file);
      registry.open();
      opened.push(registry);
      return registry;
    },
  };
}

const T = Date.UTC(2026, 10, 30, 12);
const change = (over: Partial<ConsentChangeInput>): ConsentChangeInput => ({
  customerToken: 'ct_alice',
  purpose: 'crm',
  state: 'granted',
  at: T,
  channel: 'kiosk',
  origin: 'touchpoint demo-store/kiosk-1',
  ...over,
});

describe('ConsentRegistry', () => {
  it('answers the consent in force at any moment: the latest change at or before it, whatever order they came in', async () => {
    const registry = (await registries()).open();
    // the withdrawal arrives before the grant that preceded it (a late message)
    registry.record(change({ state: 'withdrawn', at: T + 60_000 }));
    registry.record(change({ state: 'granted', at: T }));
    expect(registry.grantedAt('ct_alice', 'crm', T - 1)).toBe(false);
    expect(registry.grantedAt('ct_alice', 'crm', T)).toBe(true);
    expect(registry.grantedAt('ct_alice', 'crm', T + 59_999)).toBe(true);
    expect(registry.grantedAt('ct_alice', 'crm', T + 60_000)).toBe(false);
    // per purpose and per customer
    expect(registry.grantedAt('ct_alice', 'analytics', T + 1)).toBe(false);
    expect(registry.grantedAt('ct_bob', 'crm', T + 1)).toBe(false);
    expect(registry.history('ct_alice').map((c) => [c.state, c.at])).toEqual([
      ['granted', T],
      ['withdrawn', T + 60_000],
    ]);
  });

  it('of two changes at the same instant, keeps the one recorded last', async () => {
    const registry = (await registries()).open();
    registry.record(change({ state: 'granted' }));
    registry.record(change({ state: 'withdrawn' }));
    expect(registry.changeAt('ct_alice', 'crm', T)?.state).toBe('withdrawn');
  });

  it('records a change with a known key once, and keeps everything durable across a reopen', async () => {
    const files = await registries();
    const first = files.open();
    const a = first.record(change({ key: 'log:42', notice: 'privacy-2026-03', proof: 'log record 42' }), T + 5);
    const again = first.record(change({ key: 'log:42', state: 'withdrawn' }), T + 9);
    expect(a.created).toBe(true);
    expect(again).toEqual({ change: a.change, created: false });
    expect(a.change).toMatchObject({ recordedAt: T + 5, notice: 'privacy-2026-03', proof: 'log record 42', channel: 'kiosk' });
    expect(a.change.id).toMatch(/^[0-9a-f-]{36}$/);
    first.close();
    const second = files.open();
    expect(second.history('ct_alice')).toEqual([a.change]);
  });

  it('keeps every change in the audit log, and after an erasure only that it happened, under the keyed hash', async () => {
    const files = await registries();
    const registry = files.open();
    registry.record(change({ proof: 'signed form 7781' }), T + 1);
    registry.record(change({ purpose: 'analytics' }), T + 2);
    registry.record(change({ customerToken: 'ct_bob' }), T + 3);
    expect(registry.audit(0, 100).map((e) => e.type)).toEqual(['consent', 'consent', 'consent']);

    const erased = registry.erase('ct_alice', 'hmac-of-alice', T + 10);
    expect(erased.deleted).toBe(2);
    expect(registry.history('ct_alice')).toEqual([]);
    expect(registry.grantedAt('ct_alice', 'crm', T + 1)).toBe(false);
    const audit = registry.audit(0, 100);
    expect(audit.map((e) => (e.type === 'consent' ? e.customerToken : e.customerHash))).toEqual(['ct_bob', 'hmac-of-alice']);
    expect(registry.audit(T + 4, 100).map((e) => e.type)).toEqual(['erasure']);
    registry.close();
    // secure_delete: the deleted rows' text is gone from the file, not left in free pages
    const bytes = readFileSync(files.file);
    const wal = (() => {
      try {
        return readFileSync(`${files.file}-wal`);
      } catch {
        return Buffer.alloc(0);
      }
    })();
    for (const content of [bytes, wal]) {
      expect(content.includes('ct_alice')).toBe(false);
      expect(content.includes('signed form 7781')).toBe(false);
    }
  });
});
