import { describe, expect, it } from 'vitest';

import { decideAdmission, isExpired } from './shed-policy.js';

const at = (kind: 'ble' | 'wifi' | 'touchpoint' | 'device' | 'status', heldBytes: number) =>
  decideAdmission({ kind, heldBytes, recordBytes: 100, quotaBytes: 10_000, shedRawAbovePct: 80 });

describe('decideAdmission', () => {
  it('sheds raw sightings past the threshold and everything past the quota', () => {
    expect(at('ble', 7_900)).toEqual({ admit: true });
    expect(at('ble', 7_901)).toEqual({ admit: false, reason: 'raw_above_threshold' });
    expect(at('wifi', 9_000)).toEqual({ admit: false, reason: 'raw_above_threshold' });
    expect(at('touchpoint', 9_000)).toEqual({ admit: true });
    expect(at('device', 9_900)).toEqual({ admit: true });
    expect(at('status', 9_901)).toEqual({ admit: false, reason: 'queue_full' });
    expect(at('ble', 9_950)).toEqual({ admit: false, reason: 'queue_full' });
  });
});

describe('isExpired', () => {
  it('compares the event time with the maximum age; a message without ts never expires', () => {
    expect(isExpired(1000, 61_001, 60)).toBe(true);
    expect(isExpired(1001, 61_001, 60)).toBe(false);
    expect(isExpired(undefined, 1e15, 60)).toBe(false);
  });
});
