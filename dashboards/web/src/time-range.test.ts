import { describe, expect, it } from 'vitest';

import { dayStartMs, localDate, parseRangeChoice, resolveRange, weekBefore, zoneOffsetMs } from './time-range';

const PARIS = 'Europe/Paris';
// Tue 1 Dec 2026, 13:30 UTC = 14:30 in Paris (UTC+1 in winter)
const NOW = Date.parse('2026-12-01T13:30:00Z');

describe('time ranges in the store time zone', () => {
  it('knows the zone offset in winter and summer', () => {
    expect(zoneOffsetMs(PARIS, NOW)).toBe(3_600_000);
    expect(zoneOffsetMs(PARIS, Date.parse('2026-07-01T12:00:00Z'))).toBe(7_200_000);
    expect(zoneOffsetMs('UTC', NOW)).toBe(0);
  });

  it('starts a local day at its midnight, DST change days included', () => {
    expect(new Date(dayStartMs(PARIS, '2026-12-01')).toISOString()).toBe('2026-11-30T23:00:00.000Z');
    // 29 March 2026: clocks go forward at 02:00, the day starts at 00:00 UTC+1
    expect(new Date(dayStartMs(PARIS, '2026-03-29')).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(new Date(dayStartMs(PARIS, '2026-03-30')).toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(localDate(PARIS, Date.parse('2026-11-30T23:30:00Z'))).toBe('2026-12-01');
    expect(() => dayStartMs(PARIS, 'monday')).toThrow(/not a date/);
  });

  it('resolves today as the store day with hourly intervals, and longer ranges by day', () => {
    const today = resolveRange({ preset: 'today' }, PARIS, NOW);
    expect(new Date(today.fromMs).toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(today.toMs - today.fromMs).toBe(86_400_000);
    expect(today).toMatchObject({ interval: '1h', includesNow: true, label: 'Today (Tue 1 Dec 2026), Europe/Paris' });
    const week = resolveRange({ preset: 'last7' }, PARIS, NOW);
    expect(new Date(week.fromMs).toISOString()).toBe('2026-11-24T23:00:00.000Z');
    expect(week).toMatchObject({ interval: '1d', includesNow: true });
    const yesterday = resolveRange({ preset: 'yesterday' }, PARIS, NOW);
    expect(yesterday.includesNow).toBe(false);
    const custom = resolveRange({ from: '2026-11-02', to: '2026-11-03' }, PARIS, NOW);
    expect(custom).toMatchObject({ interval: '1h', label: 'Mon 2 Nov 2026 – Tue 3 Nov 2026, Europe/Paris' });
    expect(() => resolveRange({ from: '2026-11-03', to: '2026-11-02' }, PARIS, NOW)).toThrow(/ends .* before it starts/);
  });

  it('compares a running day with the same weekday last week up to the same time', () => {
    const today = resolveRange({ preset: 'today' }, PARIS, NOW);
    const before = weekBefore(today, NOW);
    expect(new Date(before.fromMs).toISOString()).toBe('2026-11-23T23:00:00.000Z');
    expect(new Date(before.toMs).toISOString()).toBe('2026-11-24T13:30:00.000Z');
    const yesterday = resolveRange({ preset: 'yesterday' }, PARIS, NOW);
    expect(weekBefore(yesterday, NOW).toMs).toBe(yesterday.toMs - 7 * 86_400_000);
  });

  it('reads the range from the address bar, today when it makes no sense', () => {
    expect(parseRangeChoice('last28')).toEqual({ preset: 'last28' });
    expect(parseRangeChoice('2026-11-20..2026-11-27')).toEqual({ from: '2026-11-20', to: '2026-11-27' });
    expect(parseRangeChoice('2026-11-27..2026-11-20')).toEqual({ preset: 'today' });
    expect(parseRangeChoice(null)).toEqual({ preset: 'today' });
  });
});
