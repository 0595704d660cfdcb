/**
 * The Grafana dashboards of this folder (`*.json`, Grafana's dashboard model on an InfluxDB data
 * source with InfluxQL, docs/dashboards.md) as the tests read them: their panels and query targets,
 * and each InfluxQL query with Grafana's variables and macros replaced the way Grafana replaces them,
 * so the queries can run against a real influxd. Nothing in the gateway uses it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This folder (read from the sources: the build does not copy the JSON files). */
export const GRAFANA_DASHBOARD_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface DataSourceRef {
  type?: string;
  uid?: string;
}

export interface GrafanaTarget {
  refId: string;
  datasource?: DataSourceRef;
  /** InfluxQL (rawQuery) targets. */
  query?: string;
  rawQuery?: boolean;
  resultFormat?: string;
  alias?: string;
  hide?: boolean;
  /** Server-side expression targets (datasource `__expr__`). */
  type?: string;
  expression?: string;
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: DataSourceRef;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  fieldConfig?: { defaults?: { unit?: string } };
}

export interface GrafanaVariable {
  name: string;
  type: string;
  query?: string | { query: string };
  datasource?: DataSourceRef;
  multi?: boolean;
  includeAll?: boolean;
  current?: { value?: string | string[] };
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  __inputs?: Array<{ name: string; type: string; pluginId: string }>;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
}

/** The expression data source of Grafana's server-side expressions (math over other queries' results). */
export const EXPRESSION_DATASOURCE_UID = '__expr__';
/** The import input every InfluxDB reference points to: Grafana asks for a data source at import. */
export const INFLUX_INPUT = 'DS_INFLUXDB';

/** Every `*.json` of the folder, parsed (a file that is not JSON throws, naming it). */
export function readGrafanaDashboards(dir = GRAFANA_DASHBOARD_DIR): Array<{ file: string; text: string; dashboard: GrafanaDashboard }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      try {
        return { file, text, dashboard: JSON.parse(text) as GrafanaDashboard };
      } catch (err) {
        throw new Error(`${file} is not valid JSON`, { cause: err });
      }
    });
}

/** Every panel, those inside rows included, rows themselves included. */
export function allPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Whether a target is an InfluxQL query (not a server-side expression). */
export function isInfluxTarget(target: GrafanaTarget): boolean {
  return target.datasource?.uid !== EXPRESSION_DATASOURCE_UID;
}

/** The refIds an expression uses (`$A`, `${A}`). */
export function expressionRefs(expression: string): string[] {
  return [...expression.matchAll(/\$\{?([A-Za-z]\w*)\}?/g)].map((m) => m[1] ?? '');
}

/** The text of a variable's query (Grafana stores it as a string, or as an object since 10). */
export function variableQuery(variable: GrafanaVariable): string {
  return typeof variable.query === 'object' ? variable.query.query : (variable.query ?? '');
}

/**
 * A single-valued variable's value as Grafana's InfluxDB data source interpolates it
 * (`influxRegularEscape`): a number as it is, anything else regex-escaped (`escapeRegex` of
 * @grafana/data), so queries compare tags with `=~ /^$var$/`.
 */
export function influxRegularEscape(value: string): string {
  return Number.isNaN(Number.parseFloat(value)) ? value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&') : value;
}

/** An interval as Grafana writes `$__interval` (gtime.FormatInterval): its largest whole unit. */
export function formatInterval(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [unit, size] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return `${Math.max(1, Math.floor(ms))}ms`;
}

export interface Interpolation {
  /** The dashboard's time range, epoch ms. */
  fromMs: number;
  toMs: number;
  intervalMs: number;
  /** Dashboard variables by name, single values. */
  variables: Record<string, string>;
}

/**
 * An InfluxQL query as Grafana sends it to InfluxDB: first the dashboard's variables (`$name`,
 * `${name}`, `[[name]]`; escaped as above), then the macros Grafana's InfluxDB backend replaces
 * (pkg/tsdb/influxdb/models/query.go): `$timeFilter`, `$interval`, `$__interval_ms`, `$__interval`.
 */
export function interpolateInfluxQL(query: string, at: Interpolation): string {
  const value = (name: string, whole: string) => {
    const v = at.variables[name];
    return v === undefined ? whole : influxRegularEscape(v);
  };
  const withVariables = query.replace(/\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, a?: string, b?: string, c?: string) => value(a ?? b ?? c ?? '', whole));
  const interval = formatInterval(at.intervalMs);
  return withVariables
    .replaceAll('$timeFilter', `time >= ${at.fromMs}ms and time <= ${at.toMs}ms`)
    .replaceAll('$interval', interval)
    .replaceAll('$__interval_ms', String(Math.floor(at.intervalMs)))
    .replaceAll('$__interval', interval);
}
