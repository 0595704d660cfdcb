/**
 * The metrics API against a real influxd: derived points (as the experience engine's sink writes
 * them, docs/schema.md and the derived schema of issue #12) and raw points written straight to
 * influxd's /write, read back over HTTP from a gateway started in process, with exact figures.
 * The gateway reaches influxd through a loopback proxy that records every query, so the cache's
 * hits are seen not to reach InfluxDB.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { metricValue, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { eventually } from './helpers/lifecycle.js';
import { listenOnLoopback, readBody, type LoopbackServer } from './helpers/loopback-http.js';

let influxd: TestInfluxd;
let proxy: LoopbackServer;
let gw: TestGateway;
let analyst: string;
/** Every request the gateway sent to InfluxDB's /query (URL and body), in order. */
const influxQueries: string[] = [];

/** Forwards every request to influxd unchanged, recording the /query ones. */
async function startRecordingProxy(target: string): Promise<LoopbackServer> {
  const to = new URL(target);
  return listenOnLoopback((req, res) => {
    void readBody(req).then((body) => {
      if ((req.url ?? '').startsWith('/query')) influxQueries.push(`${decodeURIComponent(req.url ?? '')} ${decodeURIComponent(body.toString())}`);
      const forward = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (err) => res.writeHead(502).end(err.message));
      forward.end(body);
    });
  });
}

const FROM = '2026-01-01T09:00:00.000Z';
const TO = '2026-01-01T12:00:00.000Z';
const at = (hhmm: string) => Date.parse(`2026-01-01T${hhmm}:00Z`);
const HOURS = ['09', '10', '11'].map((h) => `2026-01-01T${h}:00:00.000Z`);

const VISIT_1 = 'step=5s;maxGap=15m;minStay=10s;passing=30s;engine=hmm';
const VISIT_2 = 'step=5s;maxGap=10m;minStay=10s;passing=30s;engine=hmm';
const STAY = 'step=5s;passing=30s;engine=hmm';
const OCC = 'step=60s;engine=hmm';
const EXPO = 'minExposure=10s;engine=hmm';
const PASSER = 'maxHeard=60s';

/** Known points in demo-store, 09:00-12:00 UTC, two zones and two touchpoints, two definitions of visit. */
const LINES = [
  // door counter: 5 in the first hour, 4 in the third
  `telemetry,device=counter-door,device_type=people_counter,event=people_count,store=demo-store,zone=entrance in=3i,out=1i ${at('09:10')}`,
  `telemetry,device=counter-door,device_type=people_counter,event=people_count,store=demo-store,zone=entrance in=2i,out=2i ${at('09:40')}`,
  `telemetry,device=counter-door,device_type=people_counter,event=people_count,store=demo-store,zone=entrance in=4i,out=0i ${at('11:05')}`,
  // another store's point never counts
  `telemetry,device=counter-door,device_type=people_counter,event=people_count,store=other-store,zone=entrance in=50i,out=0i ${at('09:10')}`,
  // visits: definition 1 then definition 2 (the engine's parameters changed at 10:40)
  `visit,definition=visit-ble/1,method=ble,store=demo-store count=1i,duration_s=600,params="${VISIT_1}",visit_id="v1-a",visitor="ibeacon:a" ${at('09:05')}`,
  `visit,definition=visit-ble/1,method=ble,store=demo-store count=1i,duration_s=300,params="${VISIT_1}",visit_id="v1-b",visitor="ibeacon:a" ${at('09:20')}`,
  `visit,definition=visit-ble/1,method=ble,store=demo-store count=1i,duration_s=120,params="${VISIT_1}",visit_id="v1-c",visitor="ibeacon:c" ${at('10:30')}`,
  `visit,definition=visit-ble/2,method=ble,store=demo-store count=1i,duration_s=60,params="${VISIT_2}",visit_id="v1-d",visitor="ibeacon:d" ${at('10:45')}`,
  `visit,definition=visit-ble/2,method=ble,store=demo-store count=1i,duration_s=240,params="${VISIT_2}",visit_id="v1-e",visitor="ibeacon:e" ${at('11:15')}`,
  // a visit outside the range
  `visit,definition=visit-ble/1,method=ble,store=demo-store count=1i,duration_s=999,params="${VISIT_1}",visit_id="v1-f",visitor="ibeacon:f" ${at('12:00')}`,
  // wifi visits (no pseudonym): two in the first hour, one in the third
  ...['09:12', '09:30', '11:20'].map(
    (hhmm, i) =>
      `wifi_visit,definition=visit-wifi/1,method=wifi,store=demo-store count=1i,duration_s=600,end_ms=0i,params="linkGap=90s",pseudonyms=2i,visit_id="wifi-visit-${i}" ${at(hhmm)}`,
  ),
  // passers-by: two in the first hour, one in the third
  ...['09:02', '09:50', '11:30'].map(
    (hhmm) => `passer_by,definition=passer-by-ble/1,method=ble,store=demo-store count=1i,heard_s=20,params="${PASSER}",visitor="ibeacon:p${hhmm}" ${at(hhmm)}`,
  ),
  // zone stays: checkout 60, 120, 300 s in the first hour and 40 s in the third; aisle-women 200 s, and a passing stay left out
  ...[
    ['checkout', '09:10', 60, false],
    ['checkout', '09:30', 120, false],
    ['checkout', '09:50', 300, false],
    ['checkout', '11:00', 40, false],
    ['aisle-women', '10:10', 200, false],
    ['aisle-women', '10:20', 10, true],
  ].map(
    ([zone, hhmm, dwell, passing]) =>
      `zone_stay,definition=zone-stay/1,method=ble,passing=${String(passing)},store=demo-store,zone=${String(zone)} confidence=0.9,count=1i,dwell_s=${String(dwell)},params="${STAY}",visit_id="v1-x",visitor="ibeacon:x" ${at(String(hhmm))}`,
  ),
  // occupancy per minute
  `occupancy,definition=occupancy-ble/1,method=ble,store=demo-store,zone=checkout devices=2i,params="${OCC}" ${at('09:00')}`,
  `occupancy,definition=occupancy-ble/1,method=ble,store=demo-store,zone=checkout devices=4i,params="${OCC}" ${at('09:01')}`,
  `occupancy,definition=occupancy-ble/1,method=ble,store=demo-store,zone=checkout devices=1i,params="${OCC}" ${at('10:00')}`,
  `occupancy,definition=occupancy-ble/1,method=ble,store=demo-store,zone=aisle-women devices=3i,params="${OCC}" ${at('09:00')}`,
  // the engine's frontier: its last final minute is 10:59, so the visits started before 11:00 are final, those after not yet
  `occupancy,definition=occupancy-ble/1,method=ble,store=demo-store,zone=entrance devices=0i,params="${OCC}" ${at('10:59')}`,
  // exposures: kiosk-1 three in the first hour (one interacted), one in the second (interacted); mirror-1 one, not interacted
  ...[
    ['kiosk-1', 'aisle-women', '09:10', true],
    ['kiosk-1', 'aisle-women', '09:20', false],
    ['kiosk-1', 'aisle-women', '09:30', false],
    ['kiosk-1', 'aisle-women', '10:10', true],
    ['mirror-1', 'fitting-rooms', '09:15', false],
  ].map(
    ([tp, zone, hhmm, interacted]) =>
      `exposure,definition=exposure-ble/1,store=demo-store,touchpoint=${String(tp)},zone=${String(zone)} count=1i,exposed_s=30,interacted=${String(interacted)},params="${EXPO}",visit_id="v1-y",visitor="ibeacon:y" ${at(String(hhmm))}`,
  ),
  // interactions: kiosk-1 taps (one anonymous), feedback-1 scores 4, 5, 4
  `interaction,action=tap,store=demo-store,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=aisle-women beacon="ibeacon:y",count=1i,identified=false ${at('09:12')}`,
  `interaction,action=tap,store=demo-store,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=aisle-women beacon="ibeacon:y",count=1i,identified=false ${at('10:11')}`,
  `interaction,action=tap,store=demo-store,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=aisle-women count=1i,identified=false ${at('10:30')}`,
  // a consent choice at the kiosk, as the sink writes it: no interaction, no use of the kiosk
  `consent_choice,action=consent_granted,purpose=crm,store=demo-store,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=aisle-women count=1i,notice="privacy-2026-03" ${at('10:31')}`,
  `interaction,action=feedback,store=demo-store,touchpoint=feedback-1,touchpoint_type=feedback,zone=checkout count=1i,identified=false,value=4 ${at('09:05')}`,
  `interaction,action=feedback,store=demo-store,touchpoint=feedback-1,touchpoint_type=feedback,zone=checkout count=1i,identified=false,value=5 ${at('09:06')}`,
  `interaction,action=feedback,store=demo-store,touchpoint=feedback-1,touchpoint_type=feedback,zone=checkout count=1i,identified=false,value=4 ${at('11:00')}`,
];

/** Day two (2026-01-02 09:00-11:00 UTC), apart from the first so each metric's figures come from its own points only. */
const DAY2 = { from: '2026-01-02T09:00:00.000Z', to: '2026-01-02T11:00:00.000Z' };
const at2 = (hhmm: string) => Date.parse(`2026-01-02T${hhmm}:00Z`);
const hourOf2 = (hhmm: string) => Number(hhmm.slice(0, 2)) - 9;

/** Zone stays of day two: band edges on purpose (30, 60, 1200 s are the lower bounds of their bands). */
const STAYS2: Array<[zone: string, hhmm: string, dwellS: number, passing: boolean]> = [
  ['checkout', '09:05', 30, false],
  ['checkout', '09:10', 59, false],
  ['checkout', '09:20', 60, false],
  ['checkout', '09:30', 299, false],
  ['checkout', '10:00', 600, false],
  ['checkout', '10:10', 1199, false],
  ['checkout', '10:20', 1200, false],
  ['checkout', '10:30', 5000, false],
  ['aisle-men', '09:40', 130, false],
  ['aisle-men', '10:50', 400, false],
  ['aisle-men', '09:45', 12, true],
];
/** Visits of day two by path: three common paths, then 22 seen once (more than the 20 the answer keeps). */
const PATHS2: Array<[path: string, hhmm: string]> = [
  ...['09:01', '09:02', '09:03', '10:01', '10:02'].map((t): [string, string] => ['entrance > checkout', t]),
  ...['09:04', '10:03', '10:04'].map((t): [string, string] => ['entrance > aisle-men > checkout', t]),
  ...['09:05', '09:06'].map((t): [string, string] => ['entrance', t]),
  ...Array.from({ length: 22 }, (_, i): [string, string] => [
    `entrance > aisle-${String(i).padStart(2, '0')}`,
    `${i % 2 === 0 ? '09' : '10'}:${String(10 + i).padStart(2, '0')}`,
  ]),
];
const SHELF2: Array<[device: string, hhmm: string, action: 'pick_up' | 'put_back', qty: number]> = [
  ['shelf-shoes', '09:10', 'pick_up', 1],
  ['shelf-shoes', '09:20', 'pick_up', 2],
  ['shelf-shoes', '09:30', 'put_back', 1],
  ['shelf-shoes', '10:15', 'pick_up', 3],
  ['shelf-bags', '10:40', 'put_back', 2],
];
const ENV2: Array<[device: string, hhmm: string, readings: Record<string, number>]> = [
  ['env-floor', '09:10', { temperature_c: 21, humidity_pct: 40, co2_ppm: 700, battery_pct: 90 }],
  ['env-floor', '09:40', { temperature_c: 22.5, humidity_pct: 42, co2_ppm: 800, battery_pct: 89 }],
  ['env-floor', '10:20', { temperature_c: 23 }],
  ['env-door', '10:30', { co2_ppm: 650, battery_pct: 55 }],
];
/** Funnel of day two at kiosk-1: exposures (interacted or not) and interactions (identified or not). */
const EXPOSURES2: Array<[hhmm: string, interacted: boolean]> = [
  ['09:10', true],
  ['09:20', false],
  ['10:05', true],
  ['10:25', false],
];
const INTERACTIONS2: Array<[hhmm: string, identified: boolean]> = [
  ['09:11', true],
  ['09:12', false],
  ['10:06', true],
  ['10:07', true],
];

const DAY2_LINES = [
  ...STAYS2.map(
    ([zone, hhmm, dwell, passing]) =>
      `zone_stay,definition=zone-stay/1,method=ble,passing=${String(passing)},store=demo-store,zone=${zone} count=1i,dwell_s=${dwell},params="${STAY}",visit_id="v2",visitor="ibeacon:x" ${at2(hhmm)}`,
  ),
  ...PATHS2.map(
    ([path, hhmm], i) =>
      `visit,definition=visit-ble/3,method=ble,store=demo-store count=1i,duration_s=60,params="${VISIT_2}",path="${path}",visit_id="p${i}",visitor="ibeacon:p${i}" ${at2(hhmm)}`,
  ),
  ...SHELF2.map(
    ([device, hhmm, action, qty]) =>
      `telemetry,action=${action},device=${device},device_type=smart_shelf,event=shelf,store=demo-store,zone=aisle-shoes qty=${qty}i,sku="SKU-1" ${at2(hhmm)}`,
  ),
  ...ENV2.map(
    ([device, hhmm, readings]) =>
      `telemetry,device=${device},device_type=environment,event=environment,store=demo-store ${Object.entries(readings)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')} ${at2(hhmm)}`,
  ),
  ...EXPOSURES2.map(
    ([hhmm, interacted], i) =>
      `exposure,definition=exposure-ble/1,store=demo-store,touchpoint=kiosk-1,zone=aisle-women count=1i,exposed_s=30,interacted=${String(interacted)},params="${EXPO}",visit_id="e${i}",visitor="ibeacon:e${i}" ${at2(hhmm)}`,
  ),
  ...INTERACTIONS2.map(
    ([hhmm, identified]) =>
      `interaction,action=tap,store=demo-store,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=aisle-women count=1i,identified=${String(identified)} ${at2(hhmm)}`,
  ),
  // a consent choice as the sink writes it: the customer identified, but it is no interaction
  `consent_choice,action=consent_granted,purpose=crm,store=demo-store,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=aisle-women count=1i ${at2('10:08')}`,
];

/** Two hourly figures of day two: `n` added to the hour of each `hhmm`. */
function perHour2<T>(items: T[], hhmm: (item: T) => string, n: (item: T) => number = () => 1): [number, number] {
  const out: [number, number] = [0, 0];
  for (const item of items) out[hourOf2(hhmm(item)) as 0 | 1] += n(item);
  return out;
}

interface Series {
  measurement: string;
  labels: Record<string, string>;
  definition: string | null;
  params: string[];
  total: Record<string, number | null>;
  points: Array<{ time: string; values: Record<string, number | null> }>;
}
interface Body {
  metric: string;
  definition: string;
  buckets: number;
  series: Series[];
  unavailable: Array<{ labels: Record<string, string>; reason: string }>;
  influxql: string[];
}

beforeAll(async () => {
  influxd = await startInfluxd();
  proxy = await startRecordingProxy(influxd.url);
  gw = await startTestGateway({ influxUrl: `http://127.0.0.1:${proxy.port}` });
  await influxd.query(gw.database, `CREATE DATABASE "${gw.database}"`);
  const res = await fetch(`${influxd.url}/write?db=${gw.database}&precision=ms`, { method: 'POST', body: [...LINES, ...DAY2_LINES].join('\n') });
  expect(res.status, await res.text()).toBe(204);
  analyst = gw.gateway.apiTokens.add({ name: 'dashboards', scopes: ['analyst'] }).token;
});
afterAll(async () => {
  await gw?.stop();
  await proxy?.stop();
  await influxd?.stop();
});

function metricsUrl(query: string, store = 'demo-store'): string {
  return `${gw.httpUrl}/api/v1/stores/${store}/metrics?${query}`;
}

async function read(metric: string, extra = '', interval = '1h', range = { from: FROM, to: TO }): Promise<Body> {
  const res = await fetch(metricsUrl(`metric=${metric}&from=${range.from}&to=${range.to}&interval=${interval}${extra}`), {
    headers: { authorization: `Bearer ${analyst}` },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Body;
}

/** Per series (by its labels and definition): the figure `field` per hour. */
function table(body: Body, field: string): Record<string, Array<number | null>> {
  return Object.fromEntries(
    body.series.map((s) => [`${Object.values(s.labels).join('/')} ${s.definition ?? 'raw'}`, s.points.map((p) => p.values[field] ?? null)]),
  );
}

describe('GET /api/v1/stores/{store}/metrics on a real influxd', () => {
  it('answers visits per hour with two definitions as two series, never added together, each with its params', async () => {
    const body = await eventually(
      () => read('visits'),
      (b) => b.series.length === 2,
      'both visit definitions to be readable',
    );
    expect(body.buckets).toBe(3);
    expect(body.series.map((s) => [s.measurement, s.labels, s.definition, s.params, s.total])).toEqual([
      ['visit', { method: 'ble' }, 'visit-ble/1', [VISIT_1], { count: 3, mean_duration_s: 340, visitors: 2, repeat_visits: 1 }],
      ['visit', { method: 'ble' }, 'visit-ble/2', [VISIT_2], { count: 2, mean_duration_s: 150, visitors: 2, repeat_visits: 0 }],
    ]);
    // ibeacon:a came back at 09:20: a repeat visit in the first hour
    expect(table(body, 'repeat_visits')).toEqual({ 'ble visit-ble/1': [1, 0, 0], 'ble visit-ble/2': [0, 0, 0] });
    expect(body.series[0]?.points.map((p) => p.time)).toEqual(HOURS);
    expect(table(body, 'count')).toEqual({ 'ble visit-ble/1': [2, 1, 0], 'ble visit-ble/2': [0, 1, 1] });
    expect(table(body, 'mean_duration_s')).toEqual({ 'ble visit-ble/1': [450, 120, null], 'ble visit-ble/2': [null, 60, 240] });
  });

  it('answers footfall by method: the counters, BLE visits per definition, wifi visits and the fused figure', async () => {
    const body = await read('footfall');
    // fused: the counter's entries ÷ its audit ratio; 10:00 has no counter report, so its two BLE
    // visits are scaled by the people per BLE visit of the hours with both whose visits are final
    // (before the engine's frontier, 11:00): 5 ÷ ratio over 2 visits; 11:00, counted but with its
    // visits still open, is left out of the scale
    const ratio = 247 / 263;
    const perVisit = 5 / ratio / 2;
    const round1 = (x: number) => Math.round(x * 10) / 10;
    expect(table(body, 'count')).toEqual({
      'counter raw': [5, 0, 4],
      'ble visit-ble/1': [2, 1, 0],
      'ble visit-ble/2': [0, 1, 1],
      'wifi visit-wifi/1': [2, 0, 1],
      'fused footfall-fused/1': [round1(5 / ratio), round1(2 * perVisit), round1(4 / ratio)],
    });
    expect(table(body, 'reports')).toMatchObject({ 'counter raw': [2, 0, 1] });
    expect(table(body, 'estimated')).toMatchObject({ 'fused footfall-fused/1': [0, 1, 0] });
    const fused = body.series.find((s) => s.labels['method'] === 'fused')!;
    for (const p of fused.points) expect([p.values['low']! < p.values['count']!, p.values['count']! < p.values['high']!]).toEqual([true, true]);
    expect(JSON.parse(fused.params[0]!)).toMatchObject({ audited: true, audit: { counted: 247, actual: 263 }, bleFinalUntil: '2026-01-01T11:00:00.000Z' });
    expect(Object.fromEntries(body.series.map((s) => [`${s.labels['method']} ${s.definition ?? 'raw'}`, s.total['count']]))).toEqual({
      'counter raw': 9,
      'ble visit-ble/1': 3,
      'ble visit-ble/2': 2,
      'wifi visit-wifi/1': 3,
      'fused footfall-fused/1': round1(9 / ratio + 2 * perVisit),
    });
    expect(body.unavailable).toEqual([]);
  });

  it('answers the capture rate: BLE visits ÷ (visits + passers-by) per hour, each input by its definition', async () => {
    const body = await read('capture');
    expect(body.series.map((s) => [s.measurement, s.definition])).toEqual([
      ['visit', 'visit-ble/1'],
      ['visit', 'visit-ble/2'],
      ['passer_by', 'passer-by-ble/1'],
      ['visit | passer_by', 'capture-ble/1'],
    ]);
    const capture = body.series[3]!;
    // visits 2, 2, 1 and passers-by 2, 0, 1 per hour
    expect(capture.points.map((p) => [p.values['visits'], p.values['passers_by'], p.values['capture_rate']])).toEqual([
      [2, 2, 0.5],
      [2, 0, 1],
      [1, 1, 0.5],
    ]);
    expect(capture.total).toEqual({ visits: 5, passers_by: 3, capture_rate: 5 / 8 });
    expect(JSON.parse(capture.params[0]!)).toEqual({ visits: ['visit-ble/1', 'visit-ble/2'], passersBy: ['passer-by-ble/1'] });
  });

  it('answers dwell per zone without passing stays, per hour and over the range, and one zone when asked', async () => {
    const body = await read('dwell');
    expect(body.series.map((s) => [s.labels['zone'], s.definition, s.params, s.total])).toEqual([
      ['aisle-women', 'zone-stay/1', [STAY], { count: 1, mean_dwell_s: 200, median_dwell_s: 200 }],
      ['checkout', 'zone-stay/1', [STAY], { count: 4, mean_dwell_s: 130, median_dwell_s: 90 }],
    ]);
    expect(table(body, 'count')).toEqual({ 'aisle-women zone-stay/1': [0, 1, 0], 'checkout zone-stay/1': [3, 0, 1] });
    expect(table(body, 'mean_dwell_s')).toEqual({ 'aisle-women zone-stay/1': [null, 200, null], 'checkout zone-stay/1': [160, null, 40] });
    expect(table(body, 'median_dwell_s')).toEqual({ 'aisle-women zone-stay/1': [null, 200, null], 'checkout zone-stay/1': [120, null, 40] });
    const one = await read('dwell', '&zone=checkout');
    expect(one.series.map((s) => s.labels['zone'])).toEqual(['checkout']);
  });

  it('answers occupancy per zone: mean and max devices per hour, and people scaled by the people per BLE visit of the range', async () => {
    const body = await read('occupancy');
    expect(table(body, 'mean_devices')).toMatchObject({ 'aisle-women occupancy-ble/1': [3, null, null], 'checkout occupancy-ble/1': [3, 1, null] });
    expect(table(body, 'max_devices')).toMatchObject({ 'aisle-women occupancy-ble/1': [3, null, null], 'checkout occupancy-ble/1': [4, 1, null] });
    expect(body.series.slice(0, 3).map((s) => s.params)).toEqual([[OCC], [OCC], [OCC]]);
    // the fused footfall of the range up to the engine's frontier (11:00, its visits final): 5 counted
    // ÷ the audit's ratio over its 4 BLE visits, as its params state it (two decimals)
    const perVisit = Math.round((5 / (247 / 263) / 4) * 100) / 100;
    const round1 = (x: number) => Math.round(x * 10) / 10;
    expect(table(body, 'people_mean')).toMatchObject({
      'aisle-women/people occupancy-people/1': [round1(3 * perVisit), null, null],
      'checkout/people occupancy-people/1': [round1(3 * perVisit), round1(perVisit), null],
    });
    const people = body.series.find((s) => s.labels['zone'] === 'checkout' && s.labels['unit'] === 'people')!;
    expect([
      people.points[1]!.values['people_low']! < people.points[1]!.values['people_mean']!,
      people.points[1]!.values['people_mean']! < people.points[1]!.values['people_high']!,
    ]).toEqual([true, true]);
    expect(JSON.parse(people.params[0]!)).toEqual({
      peoplePerBleVisit: perVisit,
      audited: true,
      scaleTo: '2026-01-01T11:00:00.000Z',
      devices: 'occupancy-ble/1',
    });
    // the footfall statements it ran for the scale are listed with the others
    expect((body['influxql'] as string[]).some((q) => q.includes("'people_count'"))).toBe(true);
  });

  it('answers engagement per touchpoint: exposures, linked interactions, the rate (null without exposures), all interactions, and everyone estimated', async () => {
    const body = await read('engagement');
    expect(body.series.map((s) => [s.measurement, s.labels['touchpoint'], s.definition])).toEqual([
      ['exposure', 'kiosk-1', 'exposure-ble/1'],
      ['exposure', 'mirror-1', 'exposure-ble/1'],
      ['interaction', 'feedback-1', null],
      ['interaction', 'kiosk-1', null],
      ['exposure | interaction | telemetry | visit', 'kiosk-1', 'engagement-people/1'],
      ['exposure | interaction | telemetry | visit', 'mirror-1', 'engagement-people/1'],
    ]);
    const kiosk = body.series[0]!;
    expect(kiosk.points.map((p) => [p.values['exposures'], p.values['linked_interactions']])).toEqual([
      [3, 1],
      [1, 1],
      [0, 0],
    ]);
    expect(kiosk.points[0]?.values['engagement_rate']).toBeCloseTo(1 / 3, 12);
    expect(kiosk.points.slice(1).map((p) => p.values['engagement_rate'])).toEqual([1, null]);
    expect(kiosk.total).toEqual({ exposures: 4, linked_interactions: 2, engagement_rate: 0.5 });
    expect(body.series[1]?.total).toEqual({ exposures: 1, linked_interactions: 0, engagement_rate: 0 });
    expect(table(body, 'interactions')).toMatchObject({ 'feedback-1 raw': [2, 0, 1], 'kiosk-1 raw': [1, 2, 0] });
    // two of kiosk-1's three taps name a beacon (an app carrier's), the third is anonymous
    expect(table(body, 'beacon_interactions')).toMatchObject({ 'feedback-1 raw': [0, 0, 0], 'kiosk-1 raw': [1, 1, 0] });
    // everyone: exposures × the people per BLE visit up to the engine's frontier (5 counted ÷ the
    // audit's ratio over 4 BLE visits), uses = linked × all taps ÷ the taps with a beacon (3 ÷ 2)
    const perVisit = Math.round((5 / (247 / 263) / 4) * 100) / 100;
    const people = body.series[4]!;
    expect(people.labels).toEqual({ touchpoint: 'kiosk-1', unit: 'people' });
    expect(people.total).toEqual({ people_exposed: Math.round(4 * perVisit * 10) / 10, people_engaged: 3, people_engagement_rate: (2 * 1.5) / (4 * perVisit) });
    expect(people.points.map((p) => p.values['people_engagement_rate'])).toEqual([1.5 / (3 * perVisit), 1, null]);
    expect(JSON.parse(people.params[0]!)).toEqual({
      peoplePerBleVisit: perVisit,
      audited: true,
      scaleTo: '2026-01-01T11:00:00.000Z',
      interactionsPerBeaconInteraction: 1.5,
      exposures: 'exposure-ble/1',
    });
    // no interaction at mirror-1 named a beacon: how much others use it is unknown, so no rate
    expect(body.series[5]!.total).toEqual({ people_exposed: Math.round(perVisit * 10) / 10, people_engaged: null, people_engagement_rate: null });
    const one = await read('engagement', '&touchpoint=kiosk-1');
    expect(one.series.map((s) => [s.measurement, s.labels['touchpoint']])).toEqual([
      ['exposure', 'kiosk-1'],
      ['interaction', 'kiosk-1'],
      ['exposure | interaction | telemetry | visit', 'kiosk-1'],
    ]);
  });

  it('answers the feedback distribution: count per score per touchpoint', async () => {
    const body = await read('feedback', '&touchpoint=feedback-1');
    expect(body.series.map((s) => [s.labels, s.total, s.points.map((p) => p.values['count'])])).toEqual([
      [{ score: '4', touchpoint: 'feedback-1' }, { count: 2 }, [1, 0, 1]],
      [{ score: '5', touchpoint: 'feedback-1' }, { count: 1 }, [1, 0, 0]],
    ]);
  });

  it('answers 401 without a token, 403 to a token without analyst, 400 for a bad interval or unknown zone, 404 for an unknown store', async () => {
    const good = `metric=dwell&from=${FROM}&to=${TO}&interval=1h`;
    const anonymous = await fetch(metricsUrl(good));
    expect(anonymous.status).toBe(401);
    const crm = gw.gateway.apiTokens.add({ name: 'crm', scopes: ['integration'] }).token;
    const forbidden = await fetch(metricsUrl(good), { headers: { authorization: `Bearer ${crm}` } });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ scope: 'analyst', code: 'SL_ERR_HTTP_FORBIDDEN' });
    const asAnalyst = { headers: { authorization: `Bearer ${analyst}` } };
    const badInterval = await fetch(metricsUrl(`metric=dwell&from=${FROM}&to=${TO}&interval=1fortnight`), asAnalyst);
    expect(badInterval.status).toBe(400);
    expect(((await badInterval.json()) as { code: string }).code).toBe('SL_ERR_METRICS_INTERVAL');
    const tooMany = await fetch(metricsUrl(`metric=dwell&from=${FROM}&to=${TO}&interval=1s`), asAnalyst);
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: string }).error).toContain('at most 5000 per series');
    const badZone = await fetch(metricsUrl(`${good}&zone=garden`), asAnalyst);
    expect(badZone.status).toBe(400);
    expect(((await badZone.json()) as { error: string }).error).toContain('(zones: entrance, aisle-women, aisle-men, aisle-shoes, fitting-rooms, checkout)');
    const noStore = await fetch(metricsUrl(good, 'other-store'), asAnalyst);
    expect(noStore.status).toBe(404);
    expect(await noStore.json()).toEqual({ error: "unknown store 'other-store' (stores: demo-store)", code: 'SL_ERR_METRICS_STORE_UNKNOWN' });
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${gw.httpUrl}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(doc.paths).toHaveProperty(['/api/v1/stores/{store}/metrics', 'get']);
  });
});

describe("the dashboards' metrics on a real influxd (day two)", () => {
  const read2 = (metric: string, extra = '') => read(metric, extra, '1h', DAY2);

  it('answers dwell_distribution: non-passing stays per zone and dwell band, each band from its lower bound', async () => {
    const bands: Array<[string, number, number]> = [
      ['0.5-1', 0.5, 1],
      ['1-2', 1, 2],
      ['2-5', 2, 5],
      ['5-10', 5, 10],
      ['10-20', 10, 20],
      ['20+', 20, Infinity],
    ];
    const expected: Record<string, [number, number]> = {};
    for (const [zone, hhmm, dwell, passing] of STAYS2) {
      if (passing) continue;
      const band = bands.find(([, lo, hi]) => dwell / 60 >= lo && dwell / 60 < hi)![0];
      const key = `${band}/${zone} zone-stay/1`;
      expected[key] ??= [0, 0];
      expected[key][hourOf2(hhmm)]! += 1;
    }
    const body = await read2('dwell_distribution');
    expect(table(body, 'count')).toEqual(expected);
    expect(body.series.map((s) => s.labels['band'])).toEqual(expect.arrayContaining(['0.5-1', '1-2', '2-5', '5-10', '10-20', '20+']));
    const checkout = await read2('dwell_distribution', '&zone=checkout');
    expect(new Set(checkout.series.map((s) => s.labels['zone']))).toEqual(new Set(['checkout']));
    expect(checkout.series.reduce((sum, s) => sum + (s.total['count'] ?? 0), 0)).toBe(STAYS2.filter(([z]) => z === 'checkout').length);
  });

  it('answers paths: the top 20 zone sequences with their count and share of the visits, per hour and over the range', async () => {
    const counts = new Map<string, number>();
    for (const [path] of PATHS2) counts.set(path, (counts.get(path) ?? 0) + 1);
    const top = [...counts]
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .slice(0, 20)
      .map(([path, n]) => [path, n, n / PATHS2.length]);
    const body = await read2('paths');
    expect(body.series.map((s) => [s.labels['path'], s.total['count'], s.total['share']])).toEqual(top);
    expect(body.series.every((s) => s.definition === 'visit-ble/3' && s.params[0] === VISIT_2)).toBe(true);
    const visitsPerHour = perHour2(PATHS2, ([, t]) => t);
    const common = body.series[0]!;
    const commonPerHour = perHour2(
      PATHS2.filter(([p]) => p === 'entrance > checkout'),
      ([, t]) => t,
    );
    expect(common.points.map((p) => [p.values['count'], p.values['share']])).toEqual(commonPerHour.map((n, i) => [n, n / visitsPerHour[i]!]));
  });

  it('answers funnel per touchpoint: exposures, linked interactions, identified interactions, and says the CRM stage has no source', async () => {
    const body = await read2('funnel', '&touchpoint=kiosk-1');
    expect(body.series.map((s) => [s.measurement, s.labels, s.total])).toEqual([
      ['exposure', { touchpoint: 'kiosk-1' }, { exposures: EXPOSURES2.length, linked_interactions: EXPOSURES2.filter(([, i]) => i).length }],
      ['interaction', { touchpoint: 'kiosk-1' }, { identified_interactions: INTERACTIONS2.filter(([, i]) => i).length }],
    ]);
    expect(table(body, 'identified_interactions')).toMatchObject({
      'kiosk-1 raw': perHour2(
        INTERACTIONS2.filter(([, i]) => i),
        ([t]) => t,
      ),
    });
    expect(body.unavailable).toEqual([{ labels: { stage: 'crm_forwarded' }, reason: expect.stringContaining('no per-touchpoint count') }]);
    expect(body.definition).toContain('Forwarded to the CRM is not a stage');
  });

  it('answers shelf: items picked up and put back per device and hour (sum of qty)', async () => {
    const body = await read2('shelf');
    const expected = (device: string, action: string) =>
      perHour2(
        SHELF2.filter(([d, , a]) => d === device && a === action),
        ([, t]) => t,
        ([, , , q]) => q,
      );
    expect(Object.fromEntries(body.series.map((s) => [s.labels['device'], s.points.map((p) => [p.values['pick_ups'], p.values['put_backs']])]))).toEqual({
      'shelf-bags': [0, 1].map((h) => [expected('shelf-bags', 'pick_up')[h], expected('shelf-bags', 'put_back')[h]]),
      'shelf-shoes': [0, 1].map((h) => [expected('shelf-shoes', 'pick_up')[h], expected('shelf-shoes', 'put_back')[h]]),
    });
    expect(body.series.find((s) => s.labels['device'] === 'shelf-shoes')?.total).toEqual({ pick_ups: 6, put_backs: 1 });
  });

  it('answers environment: mean readings and the latest battery level per device and hour, null where none was sent', async () => {
    const body = await read2('environment');
    const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
    const expected = (device: string, hour: number) => {
      const rows = ENV2.filter(([d, t]) => d === device && hourOf2(t) === hour).map(([, , r]) => r);
      const battery = rows.map((r) => r['battery_pct']).filter((b) => b !== undefined);
      return {
        mean_temperature_c: mean(rows.flatMap((r) => (r['temperature_c'] === undefined ? [] : [r['temperature_c']]))),
        mean_humidity_pct: mean(rows.flatMap((r) => (r['humidity_pct'] === undefined ? [] : [r['humidity_pct']]))),
        mean_co2_ppm: mean(rows.flatMap((r) => (r['co2_ppm'] === undefined ? [] : [r['co2_ppm']]))),
        last_battery_pct: battery.at(-1) ?? null,
      };
    };
    expect(Object.fromEntries(body.series.map((s) => [s.labels['device'], s.points.map((p) => p.values)]))).toEqual({
      'env-door': [expected('env-door', 0), expected('env-door', 1)],
      'env-floor': [expected('env-floor', 0), expected('env-floor', 1)],
    });
  });

  it('answers format=csv: text/csv with a header and one row per series and interval', async () => {
    const res = await fetch(metricsUrl(`metric=shelf&from=${DAY2.from}&to=${DAY2.to}&interval=1h&format=csv`), {
      headers: { authorization: `Bearer ${analyst}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = (await res.text()).trimEnd().split('\r\n');
    expect(rows[0]).toBe('store,metric,measurement,definition,device,time,pick_ups,put_backs');
    expect(rows.slice(1)).toEqual([
      'demo-store,shelf,telemetry,,shelf-bags,2026-01-02T09:00:00.000Z,0,0',
      'demo-store,shelf,telemetry,,shelf-bags,2026-01-02T10:00:00.000Z,0,2',
      'demo-store,shelf,telemetry,,shelf-shoes,2026-01-02T09:00:00.000Z,3,1',
      'demo-store,shelf,telemetry,,shelf-shoes,2026-01-02T10:00:00.000Z,3,0',
    ]);
  });

  it('answers a past range asked again from its cache without querying InfluxDB, and a range ending now from InfluxDB each time', async () => {
    const ofEnvironment = () => influxQueries.filter((q) => q.includes("'environment'")).length;
    const hits = await metricValue(gw.httpUrl, 'storeloop_metrics_cache_hits_total');
    const range = { from: '2026-01-02T09:30:00.000Z', to: DAY2.to };
    const first = await read('environment', '', '30m', range);
    const asked = ofEnvironment();
    expect(asked).toBeGreaterThan(0);
    const second = await read('environment', '', '30m', range);
    expect(second).toEqual(first);
    expect(ofEnvironment()).toBe(asked);
    expect(await metricValue(gw.httpUrl, 'storeloop_metrics_cache_hits_total', { metric: 'environment' })).toBeGreaterThan(0);
    expect(await metricValue(gw.httpUrl, 'storeloop_metrics_cache_hits_total')).toBe(hits + 1);
    // a range that ends now may still change: read every time
    const now = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() };
    await read('environment', '', '1h', now);
    const beforeSecond = ofEnvironment();
    await read('environment', '', '1h', now);
    expect(ofEnvironment()).toBeGreaterThan(beforeSecond);
  });
});
