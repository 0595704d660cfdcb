/**
 * The Grafana dashboards (dashboards/grafana/*.json) against what the gateway really writes: a seeded
 * simulation of the demo store goes through a gateway as shipped (in process) into a real influxd,
 * every sensor then reports once more past the window (as test/experience-replay.int.test.ts does)
 * so the experience engine makes every visit of the window final, and once its events are in
 * InfluxDB every InfluxQL target of every panel runs with Grafana's variables and macros replaced as
 * Grafana replaces them. Each must parse and return data; each expression must use queries of its
 * panel. Grafana itself is not run: its queries are what this proves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  allPanels,
  expressionRefs,
  interpolateInfluxQL,
  isInfluxTarget,
  readGrafanaDashboards,
  variableQuery,
  type GrafanaDashboard,
  type Interpolation,
} from '../dashboards/grafana/grafana-dashboards.js';
import type { TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { DEMO, startSimulatedStore } from './helpers/simulated-store.js';

const store = DEMO;
const MIN = 60_000;
/** 11:10–12:00 in Paris on a Monday, the store open; a fixed window, so every run publishes the same messages. */
const END = Date.UTC(2026, 10, 30, 11);
const DURATION_MS = 50 * MIN;

const dashboards = readGrafanaDashboards();
let influxd: TestInfluxd;
let gw: TestGateway;
/** The dashboard's time range in the test: the simulated window with an hour before it (whole hours) and its tail. */
let RANGE: { fromMs: number; toMs: number; intervalMs: number };

beforeAll(async () => {
  influxd = await startInfluxd();
  // every visit of the window final and the engine's events in InfluxDB (test/helpers/simulated-store.ts)
  const sim = await startSimulatedStore(influxd, { seed: 14, endMs: END, durationMs: DURATION_MS });
  gw = sim.gw;
  RANGE = { fromMs: sim.startMs - 60 * MIN, toMs: sim.tailMs, intervalMs: MIN };
}, 110_000);

afterAll(async () => {
  await gw?.stop();
  await influxd?.stop();
});

/** The dashboard's variables as Grafana sets them on load: a query variable from its query (here: the demo store), a textbox from its default. */
async function variablesOf(dashboard: GrafanaDashboard): Promise<Record<string, string>> {
  const variables: Record<string, string> = {};
  for (const v of dashboard.templating.list) {
    if (v.type === 'query') {
      const query = interpolateInfluxQL(variableQuery(v), { ...RANGE, variables });
      const values = (await influxd.query(gw.database, query)).flatMap((s) => s.values.map((row) => String(row[s.columns.indexOf('value')])));
      expect(values, `variable ${v.name}: ${query}`).toContain(store.id);
      variables[v.name] = store.id;
    } else {
      variables[v.name] = variableQuery(v);
    }
  }
  return variables;
}

/** Whether InfluxDB answered at least one series with a row that has a value besides its time and tags. */
function hasData(series: Awaited<ReturnType<TestInfluxd['query']>>): boolean {
  return series.some((s) => s.values.some((row) => row.some((value, i) => s.columns[i] !== 'time' && value !== null)));
}

describe('consent choices in InfluxDB', () => {
  it('are consent_choice points, none an interaction, so no interaction panel counts them', async () => {
    const count = async (query: string) => Number((await influxd.query(gw.database, query))[0]?.values[0]?.[1] ?? 0);
    const choices = await count(`SELECT COUNT("count") FROM "consent_choice" WHERE "store" = '${store.id}'`);
    // the simulation's customers grant and withdraw consents at the touchpoints (simulators/consents.ts)
    expect(choices).toBeGreaterThan(0);
    expect(await count(`SELECT COUNT("count") FROM "interaction" WHERE "action" =~ /^consent_/`)).toBe(0);
    // and no consent_choice point says who chose
    const fields = (await influxd.query(gw.database, 'SHOW FIELD KEYS FROM "consent_choice"')).flatMap((s) => s.values.map((row) => String(row[0])));
    expect(fields.sort()).toEqual(['count', 'notice']);
    const tags = (await influxd.query(gw.database, 'SHOW TAG KEYS FROM "consent_choice"')).flatMap((s) => s.values.map((row) => String(row[0])));
    expect(tags.sort()).toEqual(['action', 'purpose', 'store', 'touchpoint', 'touchpoint_type', 'zone']);
  });
});

describe.each(dashboards.map(({ file, dashboard }) => ({ file, dashboard })))('$file', ({ dashboard }) => {
  let at: Interpolation;
  beforeAll(async () => {
    at = { ...RANGE, variables: await variablesOf(dashboard) };
  });

  const panels = allPanels(dashboard).filter((p) => p.type !== 'row');
  it.each(panels.map((panel) => ({ title: panel.title, panel })))('$title: every query returns data of the store', async ({ panel }) => {
    const targets = panel.targets ?? [];
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets.filter(isInfluxTarget)) {
      const query = interpolateInfluxQL(target.query ?? '', at);
      expect(query, `${target.refId}: a variable or macro left`).not.toMatch(/\$[\w{]|\[\[/);
      const series = await influxd.query(gw.database, query, { epoch: 'ms' });
      expect(hasData(series), `${panel.title} ${target.refId}: no data for ${query}`).toBe(true);
      // and it reads the chosen store only: another store's pick shows nothing
      const elsewhere = interpolateInfluxQL(target.query ?? '', { ...at, variables: { ...at.variables, store: 'other-store' } });
      expect(hasData(await influxd.query(gw.database, elsewhere)), `${panel.title} ${target.refId}: data of another store`).toBe(false);
    }
    const queries = new Set(targets.filter(isInfluxTarget).map((t) => t.refId));
    for (const target of targets.filter((t) => !isInfluxTarget(t))) {
      const refs = expressionRefs(target.expression ?? '');
      expect(refs.length, `${target.refId}: an expression of no query`).toBeGreaterThan(0);
      for (const ref of refs) expect(queries, `${target.refId} uses ${ref}`).toContain(ref);
    }
  });
});
