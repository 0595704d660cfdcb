/** Reads a run's raw signals from InfluxDB over InfluxQL (docs/schema.md): counter entries, sightings, interactions. */
import type { InfluxQuery, QuerySeries } from '../gateway/influx/influx-query.js';
import type { Signals } from './evaluate.js';

/** Rows per query stay small: the window is read in slices this long. */
const SLICE_MS = 10 * 60_000;

/** Quotes an InfluxQL string literal. */
function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function rows(series: QuerySeries[]): Array<Record<string, unknown>> {
  return series.flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
}

/** The signals of store `storeId` stamped in [startMs, endMs]. */
export async function readSignals(query: Pick<InfluxQuery, 'query'>, storeId: string, startMs: number, endMs: number): Promise<Signals> {
  const store = `"store" = ${literal(storeId)}`;
  const window = `time >= ${startMs}ms AND time <= ${endMs}ms`;

  const counterIn = new Map<string, number>();
  const counters = await query.query(
    `SELECT SUM("in") AS entered FROM "telemetry" WHERE ${store} AND "event" = 'people_count' AND ${window} GROUP BY "device"`,
  );
  for (const row of rows(counters)) if (typeof row['device'] === 'string') counterIn.set(row['device'], Number(row['entered'] ?? 0));

  const sightings: Signals['sightings'] = [];
  for (let from = startMs; from <= endMs; from += SLICE_MS) {
    const to = Math.min(from + SLICE_MS, endMs + 1);
    const series = await query.query(
      `SELECT "visitor", "rssi", "sensor", "zone", "source" FROM "sighting" WHERE ${store} AND ("id_type" = 'ibeacon' OR "source" = 'wifi') AND time >= ${from}ms AND time < ${to}ms`,
      { epoch: 'ms' },
    );
    for (const row of rows(series)) {
      const { time, visitor, rssi, sensor, zone, source } = row;
      if (typeof time !== 'number' || typeof visitor !== 'string' || typeof rssi !== 'number' || typeof sensor !== 'string' || typeof zone !== 'string')
        continue;
      if (source !== 'ble' && source !== 'wifi') continue;
      sightings.push({ ts: time, visitor, rssi, sensor, zone, source });
    }
  }

  const interactions: Signals['interactions'] = [];
  const series = await query.query(`SELECT "count", "beacon", "touchpoint" FROM "interaction" WHERE ${store} AND ${window}`, { epoch: 'ms' });
  for (const row of rows(series)) {
    if (typeof row['touchpoint'] !== 'string') continue;
    interactions.push({ touchpoint: row['touchpoint'], ...(typeof row['beacon'] === 'string' ? { beacon: row['beacon'] } : {}) });
  }
  return { counterIn, sightings, interactions };
}
