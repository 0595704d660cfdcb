/**
 * The `feedback` metric's two steps: its parts depend on the scores given, so the reader first asks
 * for the distinct scores in the range (`feedbackScoresStatement`), then counts each score as a part
 * of its own (`feedbackParts`), per touchpoint.
 */
import { numberLiteral, quoteIdentifier, tagEquals } from './influxql-literals.js';
import type { MetricsRequest } from './metrics-request.js';
import type { QueryPart } from './metric-queries.js';
import { inStoreAndRange, selectStatement } from './metric-statements.js';

/** The feedback scores given in the range, per touchpoint (`SELECT DISTINCT("value")`). */
export function feedbackScoresStatement(req: MetricsRequest): string {
  return selectStatement({
    fields: [`DISTINCT(${quoteIdentifier('value')})`],
    measurement: 'interaction',
    where: inStoreAndRange(req, feedbackWhere(req)),
    groupBy: [quoteIdentifier('touchpoint')],
  });
}

/** One part per score found: the feedback interactions with exactly that value, per touchpoint. */
export function feedbackParts(req: MetricsRequest, scores: number[]): QueryPart[] {
  return [...new Set(scores)]
    .sort((a, b) => a - b)
    .map((score): QueryPart => ({
      group: `feedback:${numberLiteral(score)}`,
      measurement: 'interaction',
      aggregates: [{ fn: 'COUNT', field: 'value', as: 'count' }],
      where: [...feedbackWhere(req), `${quoteIdentifier('value')} = ${numberLiteral(score)}`],
      groupBy: ['touchpoint'],
      labels: { score: numberLiteral(score) },
      derived: false,
    }));
}

function feedbackWhere(req: MetricsRequest): string[] {
  return [tagEquals('action', 'feedback'), ...(req.touchpoint === undefined ? [] : [tagEquals('touchpoint', req.touchpoint)])];
}
