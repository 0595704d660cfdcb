/**
 * The only way values enter the metrics API's InfluxQL: quoted string literals, quoted identifiers,
 * and integer time and duration literals. Nothing a caller sent is ever pasted in raw.
 */
import { quoteIdentifier } from '../influx/influx-query.js';

export { quoteIdentifier };

/**
 * An InfluxQL string literal: `'value'` with `\` and `'` escaped by a backslash (InfluxQL reads
 * `\'` inside a literal as a quote; a doubled `''` is a syntax error, not an escape).
 */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `"key" = 'value'`: a tag (or string field) compared with a quoted literal. */
export function tagEquals(key: string, value: string): string {
  return `${quoteIdentifier(key)} = ${quoteString(value)}`;
}

/** An epoch-millisecond time or duration literal (`1767261600000ms`); throws on anything but a safe integer ≥ 0. */
export function msLiteral(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a whole number of milliseconds ≥ 0: ${String(ms)}`);
  return `${ms}ms`;
}

/** A decimal number literal (a feedback score); throws on NaN, infinities and exponent notation, which InfluxQL cannot read. */
export function numberLiteral(value: number): string {
  const text = String(value);
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new RangeError(`not a plain decimal number: ${text}`);
  return text;
}
