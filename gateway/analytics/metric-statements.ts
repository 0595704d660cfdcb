/**
 * The InfluxQL text of the metrics API: one SELECT builder that every statement goes through (the
 * store's condition, the part's conditions and the request's range joined by AND, then GROUP BY),
 * and the statements the reader runs for a plan's parts (metric-queries.ts) and for the experience
 * engine's frontier. Every piece comes already safe from influxql-literals.ts.
 */
import { msLiteral, quoteIdentifier, tagEquals } from './influxql-literals.js';
import type { MetricsRequest } from './metrics-request.js';
import type { Aggregate, QueryPart } from './metric-queries.js';

/** One SELECT, each piece already safe (quoted identifiers, literals). */
export interface SelectSpec {
  /** The selected expressions: `SUM("in") AS "count"`, `DISTINCT("params")`. */
  fields: string[];
  measurement: string;
  /** Conditions, joined by AND. */
  where: string[];
  /** GROUP BY terms: a `time(…)` term, quoted tag keys. */
  groupBy?: string[];
  /** Empty intervals left out (`fill(none)`), for a statement grouped by time. */
  fillNone?: boolean;
}

export function selectStatement({ fields, measurement, where, groupBy = [], fillNone = false }: SelectSpec): string {
  const group = groupBy.length === 0 ? '' : ` GROUP BY ${groupBy.join(', ')}`;
  return `SELECT ${fields.join(', ')} FROM ${quoteIdentifier(measurement)} WHERE ${where.join(' AND ')}${group}${fillNone ? ' fill(none)' : ''}`;
}

/** The request's store, the given conditions, then the request's range [from, to). */
export function inStoreAndRange(req: MetricsRequest, conditions: string[]): string[] {
  return [tagEquals('store', req.store.id), ...conditions, `time >= ${msLiteral(req.fromMs)}`, `time < ${msLiteral(req.toMs)}`];
}

function aggregateField(a: Aggregate): string {
  const call = a.fn === 'COUNT_DISTINCT' ? `COUNT(DISTINCT(${quoteIdentifier(a.field)}))` : `${a.fn}(${quoteIdentifier(a.field)})`;
  return `${call} AS ${quoteIdentifier(a.as)}`;
}

/**
 * The part's SELECT. `bucketed`: per interval, the intervals starting at `from` (GROUP BY time with
 * the offset `from` mod interval), empty intervals left out (fill(none): the shaping fills them);
 * otherwise over the whole range.
 */
export function partStatement(part: QueryPart, req: MetricsRequest, bucketed: boolean): string {
  return selectStatement({
    fields: part.aggregates.map(aggregateField),
    measurement: part.measurement,
    where: inStoreAndRange(req, part.where),
    groupBy: [...(bucketed ? [`time(${msLiteral(req.intervalMs)}, ${msLiteral(req.fromMs % req.intervalMs)})`] : []), ...part.groupBy.map(quoteIdentifier)],
    fillNone: bucketed,
  });
}

/** The distinct `params` strings of a derived part's series over the range. */
export function paramsStatement(part: QueryPart, req: MetricsRequest): string {
  return selectStatement({
    fields: [`DISTINCT(${quoteIdentifier('params')})`],
    measurement: part.measurement,
    where: inStoreAndRange(req, part.where),
    groupBy: part.groupBy.map(quoteIdentifier),
  });
}

/**
 * The experience engine's frontier in the range: its last final occupancy minute. The engine writes
 * the occupancy of a minute (every zone, zeros included) once no open track can reach it, so every
 * BLE visit that started before the end of that minute is final (a track open for longer than
 * `occupancyHoldMinutes` aside: it stops holding occupancy back, and if it turns out a visit it is
 * added to its interval later). One row at most; none when the engine made nothing final in the range.
 */
export function finalFrontierStatement(req: MetricsRequest): string {
  return selectStatement({
    fields: [`LAST(${quoteIdentifier('devices')})`],
    measurement: 'occupancy',
    // no upper bound: a minute made final after `to` still says the range's visits are final
    where: [tagEquals('store', req.store.id), `time >= ${msLiteral(req.fromMs)}`],
  });
}
