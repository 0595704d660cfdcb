/**
 * The metrics API against a real influxd: derived points (as the experience engine's sink writes
 * them, docs/schema.md and the derived schema of issue #12) and raw points written straight to
 * influxd's /write, read back over HTTP from a gateway started in process, with exact figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';
import { eventually } from './helpers/lifecycle.js';

let influxd: TestInfluxd;
let gw: TestGateway;
let analyst: string;

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
  gw = await startTestGateway({ influxUrl: influxd.url });
  await influxd.query(gw.database, `CREATE DATABASE "${gw.database}"`);
  const res = await fetch(`${influxd.url}/write?db=${gw.database}&precision=ms`, { method: 'POST', body: LINES.join('\n') });
  expect(res.status, await res.text()).toBe(204);
  analyst = gw.gateway.apiTokens.add({ name: 'dashboards', scopes: ['analyst'] }).token;
});
afterAll(async () => {
  await gw?.stop();
  await influxd?.stop();
});

function metricsUrl(query: string, store = 'demo-store'): string {
  return `${gw.httpUrl}/api/v1/stores/${store}/metrics?${query}`;
}

async function read(metric: string, extra = '', interval = '1h'): Promise<Body> {
  const res = await fetch(metricsUrl(`metric=${metric}&from=${FROM}&to=${TO}&interval=${interval}${extra}`), {
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
