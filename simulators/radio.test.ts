import { describe, expect, it } from 'vitest';

import { createRng } from './prng.js';
import { BLE_RADIO, hear, sampleRssi } from './radio.js';

describe('radio', () => {
  it("shifts a scanner's readings by its calibration gain without drawing other numbers", () => {
    for (const d of [0.3, 1, 4, 12]) {
      const nominal = sampleRssi(BLE_RADIO, d, createRng(7, 'radio-test', d));
      expect(sampleRssi(BLE_RADIO, d, createRng(7, 'radio-test', d), -3)).toBe(nominal - 3);
    }
    const heard = Array.from({ length: 50 }, (_, i) => hear(BLE_RADIO, 3, createRng(7, 'hear', i)));
    const quieter = Array.from({ length: 50 }, (_, i) => hear(BLE_RADIO, 3, createRng(7, 'hear', i), -3));
    expect(quieter).toEqual(heard.map((rssi) => (rssi === undefined ? undefined : rssi - 3)));
  });
});
