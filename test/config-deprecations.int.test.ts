/**
 * Deprecated config keys through the real gateway: a config that still sets them starts, and the
 * gateway logs one warning per key, once, at start. No InfluxDB is needed for that: nothing listens
 * at its address, and the gateway starts all the same (its InfluxDB sink lags).
 */
import { describe, expect, it, onTestFinished } from 'vitest';

import { freePort } from '../devtools/free-port.js';
import { startTestGateway } from './helpers/gateway.js';

async function gatewayWith(influx: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
  const influxUrl = `http://127.0.0.1:${await freePort()}`;
  const gw = await startTestGateway({ influxUrl, config: { influx: { url: influxUrl, createDatabase: false, ...influx } } });
  onTestFinished(() => gw.stop());
  return gw.logs();
}

describe('deprecated config keys', () => {
  it('start the gateway with one warning each, logged once', async () => {
    const logs = await gatewayWith({ flushIntervalMs: 25, maxRetries: 5, maxRetryDelayMs: 15000 });
    const warnings = logs.filter((line) => line['config'] === 'deprecated');
    expect(warnings.map((line) => [line['level'], String(line['msg']).split(' ')[0]])).toEqual([
      [40, 'influx.flushIntervalMs'],
      [40, 'influx.maxRetries'],
      [40, 'influx.maxRetryDelayMs'],
    ]);
    expect(String(warnings[0]?.['msg'])).toMatch(/is deprecated and ignored .*a later version will refuse it/);
  });

  it('give no warning when none is set', async () => {
    const logs = await gatewayWith({});
    expect(logs.filter((line) => line['config'] === 'deprecated')).toEqual([]);
  });
});
