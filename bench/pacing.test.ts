import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ClosedLoopPacing, nowMs, OpenLoopPacing, scheduledSendMs, type PacedSender } from './pacing.js';

/** Records what a pacing sends; settle() acknowledges the oldest publishes. */
class FakeSender implements PacedSender {
  inflight = 0;
  connected = true;
  readonly scheduled: number[] = [];
  readonly sentAt: number[] = [];

  send(scheduledAtMs: number): void {
    this.scheduled.push(scheduledAtMs);
    this.sentAt.push(nowMs());
    this.inflight++;
  }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('scheduledSendMs', () => {
  it('spaces messages by the interval, offset by the phase', () => {
    expect(scheduledSendMs(1_000, 4, 0.5, 0)).toBe(1_002);
    expect(scheduledSendMs(1_000, 4, 0.5, 3)).toBe(1_014);
  });
});

describe('OpenLoopPacing', () => {
  it('sends on the schedule whatever the acknowledgements do', () => {
    const sender = new FakeSender();
    const start = nowMs();
    const pacing = new OpenLoopPacing(sender, { mode: 'open-loop', ratePerSecond: 1_000, phase: 0, maxInflight: 10_000 }, start);
    pacing.start();
    vi.advanceTimersByTime(100);
    pacing.stop();
    // due at start + 0, 1, …, 100 ms; none acknowledged, all sent
    expect(sender.scheduled).toHaveLength(101);
    expect(sender.scheduled[10]).toBeCloseTo(start + 10, 6);
    expect(Math.max(...sender.sentAt.map((at, i) => at - (sender.scheduled[i] ?? 0)))).toBeLessThanOrEqual(1);
  });

  it('holds due messages at the in-flight cap, sends them once room is made, and hands back those never sent', () => {
    const sender = new FakeSender();
    const start = nowMs();
    const pacing = new OpenLoopPacing(sender, { mode: 'open-loop', ratePerSecond: 1_000, phase: 0, maxInflight: 5 }, start);
    pacing.start();
    vi.advanceTimersByTime(20);
    expect(sender.scheduled).toHaveLength(5);
    sender.inflight = 0; // five PUBACKs
    pacing.onSettled();
    expect(sender.scheduled).toHaveLength(10);
    expect(sender.scheduled[9]).toBeCloseTo(start + 9, 6); // late, but measured from its schedule
    const unsent = pacing.stop();
    expect(unsent.length).toBe(11); // due at 10 … 20 ms
    expect(unsent[0]).toBeCloseTo(start + 10, 6);
  });
});

describe('ClosedLoopPacing', () => {
  it('keeps the window full, one new publish per settled one', () => {
    const sender = new FakeSender();
    const pacing = new ClosedLoopPacing(sender, 3);
    pacing.start();
    expect(sender.scheduled).toHaveLength(3);
    sender.inflight--;
    pacing.onSettled();
    expect(sender.scheduled).toHaveLength(4);
    pacing.stop();
    sender.inflight--;
    pacing.onSettled();
    expect(sender.scheduled).toHaveLength(4);
  });
});
