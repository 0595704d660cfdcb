/** The number of points in the bench database, read the way an analyst would (InfluxQL count). */
import type { InfluxQuery } from '../gateway/influx/influx-query.js';
import { delay } from './processes.js';

const COUNT_SETTLE_MS = 10_000;
const COUNT_POLL_MS = 250;
/** Polls without change after which the count is taken as final. */
const COUNT_STABLE_POLLS = 8;

export async function countPoints(influx: InfluxQuery): Promise<number> {
  const series = await influx.query('SELECT count(rssi) FROM sighting');
  const value = series[0]?.values[0]?.[1];
  return typeof value === 'number' ? value : 0;
}

/**
 * The stored point count once it reached `expected` or stopped changing. Callers wait for the
 * gateway's ledger to settle first; this covers what InfluxDB itself needs to make a write visible.
 */
export async function countPointsSettled(influx: InfluxQuery, expected: number): Promise<number> {
  let count = await countPoints(influx);
  for (let i = 0; i < COUNT_SETTLE_MS / COUNT_POLL_MS && count < expected; i++) {
    await delay(COUNT_POLL_MS);
    const next = await countPoints(influx);
    if (next === count && i >= COUNT_STABLE_POLLS) break;
    count = next;
  }
  return count;
}
