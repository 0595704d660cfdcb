import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { InfluxSchema } from '../../config/schema.js';
import { startInfluxd, type TestInfluxd } from '../../test/helpers/influxd.js';
import { InfluxQueryError } from './influx-errors.js';
import { InfluxQuery, isReadOnlyQuery, quoteIdentifier, rfc3339ToEpochNs } from './influx-query.js';

const DB = 'query_test';
const T0 = 1_700_000_000_123_456_789n;

let influxd: TestInfluxd;
let query: InfluxQuery;

beforeAll(async () => {
  influxd = await startInfluxd();
  query = new InfluxQuery(InfluxSchema.parse({ url: influxd.url, api: 'v1', database: DB }));
  await query.query(`CREATE DATABASE ${quoteIdentifier(DB)}`);
  const body = [
    `zone_presence,store=s1,zone=entrance visitors=3i ${T0}`,
    `zone_presence,store=s1,zone=checkout visitors=5i ${T0 + 1n}`,
    `zone_presence,store=s2,zone=entrance visitors=7i ${T0 + 2n}`,
  ].join('\n');
  const res = await fetch(`${influxd.url}/write?db=${DB}&precision=n`, { method: 'POST', body });
  expect(res.status).toBe(204);
});

afterAll(async () => {
  await influxd?.stop();
});

describe('InfluxQuery against influxd 1.x', () => {
  it('parses series with tags, columns and values of every statement', async () => {
    const series = await query.query('SELECT sum("visitors") FROM zone_presence GROUP BY "store"; SHOW MEASUREMENTS');
    expect(series).toEqual([
      { name: 'zone_presence', tags: { store: 's1' }, columns: ['time', 'sum'], values: [['1970-01-01T00:00:00Z', 8]] },
      { name: 'zone_presence', tags: { store: 's2' }, columns: ['time', 'sum'], values: [['1970-01-01T00:00:00Z', 7]] },
      { name: 'measurements', columns: ['name'], values: [['zone_presence']] },
    ]);
  });

  it('returns time as epoch ms numbers or exact epoch ns strings', async () => {
    const q = 'SELECT "visitors" FROM zone_presence WHERE "store" = \'s1\'';
    const [ms] = await query.query(q, { epoch: 'ms' });
    expect(ms?.values).toEqual([
      [Number(T0 / 1_000_000n), 3],
      [Number(T0 / 1_000_000n), 5],
    ]);
    const [ns] = await query.query(q, { epoch: 'ns' });
    expect(ns?.values).toEqual([
      [T0.toString(), 3],
      [(T0 + 1n).toString(), 5],
    ]);
  });

  it('rejects a query influxd cannot parse with InfluxQueryError and its message', async () => {
    const error = await query.query('SELEC * FROM zone_presence').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfluxQueryError);
    expect((error as InfluxQueryError).code).toBe('SL_ERR_INFLUX_QUERY');
    expect((error as InfluxQueryError).message).toContain('error parsing query');
    expect((error as InfluxQueryError).context).toMatchObject({ status: 400, api: 'v1', method: 'POST' });
    await expect(query.query('SELECT * FROM')).rejects.toMatchObject({ context: { status: 400, method: 'GET' } });
  });

  it('rejects when a statement result carries an error', async () => {
    const other = new InfluxQuery(InfluxSchema.parse({ url: influxd.url, api: 'v1', database: 'no_such_db' }));
    await expect(other.query('SELECT * FROM zone_presence')).rejects.toThrow(/database not found: no_such_db/);
    await expect(query.query("SELECT * FROM zone_presence WHERE time > 'not a time'")).rejects.toThrow(InfluxQueryError);
  });

  it('rejects with InfluxQueryError when nothing listens', async () => {
    const dead = new InfluxQuery(InfluxSchema.parse({ url: 'http://127.0.0.1:9', api: 'v1', database: DB, timeoutMs: 1000 }));
    const error = await dead.query('SHOW DATABASES').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfluxQueryError);
    expect((error as InfluxQueryError).cause).toBeInstanceOf(Error);
  });
});

describe('InfluxQL helpers', () => {
  it('sends only reading statements as GET', () => {
    expect(isReadOnlyQuery('SELECT * FROM m')).toBe(true);
    expect(isReadOnlyQuery('  show databases; select 1 from m ')).toBe(true);
    expect(isReadOnlyQuery('SELECT * INTO m2 FROM m')).toBe(false);
    expect(isReadOnlyQuery('CREATE DATABASE "x"')).toBe(false);
    expect(isReadOnlyQuery('SELECT * FROM m; DROP MEASUREMENT m')).toBe(false);
    expect(isReadOnlyQuery('')).toBe(false);
  });

  it('converts RFC 3339 to exact epoch nanoseconds, before 1970 too', () => {
    expect(rfc3339ToEpochNs('2023-11-14T22:13:20.123456789Z')).toBe('1700000000123456789');
    expect(rfc3339ToEpochNs('2023-11-14T22:13:20.5Z')).toBe('1700000000500000000');
    expect(rfc3339ToEpochNs('1970-01-01T00:00:00Z')).toBe('0');
    expect(rfc3339ToEpochNs('1969-12-31T23:59:59.5Z')).toBe('-500000000');
    expect(() => rfc3339ToEpochNs('yesterday')).toThrow(/RFC 3339/);
  });

  it('quotes identifiers with backslash escapes', () => {
    expect(quoteIdentifier('store"s\\1')).toBe('"store\\"s\\\\1"');
  });
});
