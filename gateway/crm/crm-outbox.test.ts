import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { CrmOutbox, type OutboxEvent } from './crm-outbox.js';

async function outbox(): Promise<{ open(): CrmOutbox }> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-outbox-'));
  const opened: CrmOutbox[] = [];
  onTestFinished(async () => {
    for (const o of opened) o.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    open: () => {
      const o = new CrmOutbox(join(dir, 'crm-outbox.sqlite'));
      o.open();
      opened.push(o);
      return o;
    },
  };
}

const T = Date.UTC(2026, 10, 30, 12);
const event = (id: string, over: Partial<OutboxEvent> = {}): OutboxEvent => ({
  id,
  destination: 'hooks',
  customerToken: 'ct_alice',
  eventTime: T,
  type: 'interaction',
  data: { action: 'tap' },
  ...over,
});

describe('CrmOutbox', () => {
  it('holds an event once per destination, oldest first, durably across a reopen', async () => {
    const files = await outbox();
    const first = files.open();
    expect(first.add([event('a'), event('b'), event('a'), event('a', { destination: 'hubspot' })], T)).toBe(3);
    expect(first.add([event('b')], T)).toBe(0);
    first.close();
    const again = files.open();
    expect(again.pending('hooks', 10).map((e) => [e.id, e.attempts, e.nextAttemptAt])).toEqual([
      ['a', 0, T],
      ['b', 0, T],
    ]);
    expect(again.pending('hubspot', 10).map((e) => e.data)).toEqual([{ action: 'tap' }]);
  });

  it('counts attempts, sets dead letters aside with the reason, and replays them', async () => {
    const o = (await outbox()).open();
    o.add([event('a'), event('b')], T);
    const [a, b] = o.pending('hooks', 10);
    o.retryLater(a!.seq, T + 5000, 'answered 500');
    o.deadLetter(b!.seq, 'answered 400: bad property', T + 1);
    expect(o.pending('hooks', 10)).toMatchObject([{ id: 'a', attempts: 1, nextAttemptAt: T + 5000, lastError: 'answered 500' }]);
    expect(o.deadLetters('hooks', 10)).toMatchObject([{ id: 'b', attempts: 1, lastError: 'answered 400: bad property', deadAt: T + 1 }]);
    expect(o.counts('hooks')).toEqual({ pending: 1, dead: 1, oldestPendingEventTime: T });
    expect(o.replay('hooks', 'b', T + 2)).toBe(1);
    expect(o.pending('hooks', 10).map((e) => [e.id, e.attempts])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    o.delivered(a!.seq);
    expect(o.pending('hooks', 10).map((e) => e.id)).toEqual(['b']);
  });

  it('drops every event of a customer at once, and says how many per destination', async () => {
    const o = (await outbox()).open();
    o.add([event('a'), event('b', { destination: 'hubspot' }), event('c', { customerToken: 'ct_bob' })], T);
    expect([...o.dropCustomer('ct_alice')].sort()).toEqual([
      ['hooks', 1],
      ['hubspot', 1],
    ]);
    expect(o.pending('hooks', 10).map((e) => e.id)).toEqual(['c']);
    expect(o.pending('hubspot', 10)).toEqual([]);
  });
});
