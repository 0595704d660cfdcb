import { describe, expect, it } from 'vitest';

import {
  allPanels,
  EXPRESSION_DATASOURCE_UID,
  expressionRefs,
  formatInterval,
  INFLUX_INPUT,
  influxRegularEscape,
  interpolateInfluxQL,
  isInfluxTarget,
  readGrafanaDashboards,
} from './grafana-dashboards.js';

const dashboards = readGrafanaDashboards();

/** Every object under `node` that has a `datasource` member, with its path. */
function datasourceRefs(node: unknown, path = '$'): Array<{ path: string; ref: unknown }> {
  if (Array.isArray(node)) return node.flatMap((child, i) => datasourceRefs(child, `${path}[${i}]`));
  if (typeof node !== 'object' || node === null) return [];
  const here = 'datasource' in node ? [{ path: `${path}.datasource`, ref: (node as { datasource: unknown }).datasource }] : [];
  return [...here, ...Object.entries(node).flatMap(([key, child]) => datasourceRefs(child, `${path}.${key}`))];
}

describe('the Grafana dashboards', () => {
  it('are four, with distinct uids', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['storeloop-devices.json', 'storeloop-engagement.json', 'storeloop-overview.json', 'storeloop-zones.json']);
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(dashboards.length);
  });

  describe.each(dashboards)('$file', ({ dashboard, text }) => {
    it('asks for an InfluxDB data source at import, and names no other', () => {
      expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: INFLUX_INPUT, type: 'datasource', pluginId: 'influxdb' })]);
      expect(typeof dashboard.schemaVersion).toBe('number');
      // no data source picked by its uid or name in someone's Grafana: the input, or Grafana's expressions
      for (const { path, ref } of datasourceRefs(dashboard)) {
        expect(
          [
            { type: 'influxdb', uid: `\${${INFLUX_INPUT}}` },
            { type: '__expr__', uid: EXPRESSION_DATASOURCE_UID },
          ],
          path,
        ).toContainEqual(ref);
      }
      expect(text).not.toMatch(/"uid":\s*"(?!\$\{DS_INFLUXDB\}|__expr__|storeloop-)/);
    });

    it('numbers its panels uniquely', () => {
      const ids = allPanels(dashboard).map((p) => p.id);
      expect(ids.every((id) => Number.isInteger(id))).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('has a store variable from the tag values', () => {
      const store = dashboard.templating.list.find((v) => v.name === 'store');
      expect(store).toMatchObject({ type: 'query', query: 'SHOW TAG VALUES WITH KEY = "store"', multi: false, includeAll: false });
    });

    it('gives every panel a title and a description with its unit', () => {
      for (const panel of allPanels(dashboard).filter((p) => p.type !== 'row')) {
        expect(panel.title, `panel ${panel.id}`).toMatch(/\S/);
        expect(panel.description, panel.title).toMatch(/\bUnits?: \S/);
        expect(panel.fieldConfig?.defaults?.unit, panel.title).toBeDefined();
      }
    });

    it('queries InfluxQL of one store and the dashboard time range, expressions over queries of the same panel', () => {
      for (const panel of allPanels(dashboard).filter((p) => p.type !== 'row')) {
        const targets = panel.targets ?? [];
        expect(new Set(targets.map((t) => t.refId)).size, panel.title).toBe(targets.length);
        for (const target of targets.filter(isInfluxTarget)) {
          expect(target, panel.title).toMatchObject({ rawQuery: true });
          expect(target.query, panel.title).toContain('"store" =~ /^$store$/');
          expect(target.query, panel.title).toContain('$timeFilter');
        }
        const queries = targets.filter(isInfluxTarget).map((t) => t.refId);
        for (const target of targets.filter((t) => !isInfluxTarget(t))) {
          expect(target.type, panel.title).toBe('math');
          expect(queries, panel.title).toEqual(expect.arrayContaining(expressionRefs(target.expression ?? '')));
        }
      }
    });
  });
});

describe('interpolateInfluxQL', () => {
  const at = { fromMs: 1_767_258_000_000, toMs: 1_767_268_800_000, intervalMs: 60_000, variables: { store: 'shop.1', audit_ratio: '0.94' } };

  it('replaces the variables and macros as Grafana does', () => {
    expect(interpolateInfluxQL('SELECT SUM("in") / $audit_ratio FROM "t" WHERE "store" =~ /^$store$/ AND $timeFilter GROUP BY time($__interval)', at)).toBe(
      'SELECT SUM("in") / 0.94 FROM "t" WHERE "store" =~ /^shop\\.1$/ AND time >= 1767258000000ms and time <= 1767268800000ms GROUP BY time(1m)',
    );
    expect(interpolateInfluxQL('${store} [[store]] $__interval_ms $interval $unknown', at)).toBe('shop\\.1 shop\\.1 60000 1m $unknown');
  });

  it('escapes a value for a regex unless it is a number', () => {
    expect(influxRegularEscape('a.b-c(d)')).toBe('a\\.b-c\\(d\\)');
    expect(influxRegularEscape('12.5')).toBe('12.5');
  });

  it('writes an interval in its largest whole unit', () => {
    expect([500, 1000, 90_000, 3_600_000, 86_400_000 * 2].map(formatInterval)).toEqual(['500ms', '1s', '1m', '1h', '2d']);
  });

  it('finds the queries an expression uses', () => {
    expect(expressionRefs('$A / ($A + ${B})')).toEqual(['A', 'A', 'B']);
  });
});
