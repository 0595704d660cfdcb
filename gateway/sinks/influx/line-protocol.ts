/**
 * InfluxDB line protocol for the InfluxDB sink: the same bytes as the official client's `Point`
 * (@influxdata/influxdb-client: tags and fields sorted by key, empty tag values left out, its escaping
 * rules), without building a Point per item. The sink encodes every point it writes, and Point's
 * generic maps and per-character escaping were its largest cost in the benchmark profile.
 * line-protocol.test.ts checks the output against Point for hostile strings.
 */

const NEEDS_TAG_ESCAPE = /[, =\n\r\t]/;
const NEEDS_MEASUREMENT_ESCAPE = /[, \n\r\t]/;
const NEEDS_QUOTE_ESCAPE = /["\\]/;
const TAG_ESCAPES: Record<string, string> = { ',': '\\,', ' ': '\\ ', '=': '\\=', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const QUOTE_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\' };

/** Tag keys, tag values and field keys. */
export function escapeTag(value: string): string {
  return NEEDS_TAG_ESCAPE.test(value) ? value.replace(/[, =\n\r\t]/g, (c) => TAG_ESCAPES[c] as string) : value;
}

export function escapeMeasurement(value: string): string {
  return NEEDS_MEASUREMENT_ESCAPE.test(value) ? value.replace(/[, \n\r\t]/g, (c) => TAG_ESCAPES[c] as string) : value;
}

/** A string field value, quoted. */
export function quoteString(value: string): string {
  return `"${NEEDS_QUOTE_ESCAPE.test(value) ? value.replace(/["\\]/g, (c) => QUOTE_ESCAPES[c] as string) : value}"`;
}

/** An integer field value (`-67i`), as Point writes it; refuses what InfluxDB cannot store. */
export function intFieldValue(key: string, value: number): string {
  if (!Number.isFinite(value) || value <= -9223372036854776e3 || value >= 9223372036854776e3)
    throw new RangeError(`invalid integer value for field '${key}': '${value}'`);
  return `${Math.floor(value)}i`;
}

/** One point: add tags and fields in any order, then `line(timestampNs)`. */
export class LineBuilder {
  private readonly tags: Array<[string, string]> = [];
  private readonly fields: Array<[string, string]> = [];

  constructor(private readonly measurement: string) {}

  tag(key: string, value: string): this {
    if (value !== '') this.tags.push([key, value]);
    return this;
  }

  intField(key: string, value: number): this {
    this.fields.push([key, intFieldValue(key, value)]);
    return this;
  }

  floatField(key: string, value: number): this {
    if (!Number.isFinite(value)) throw new RangeError(`invalid float value for field '${key}': ${value}`);
    this.fields.push([key, String(value)]);
    return this;
  }

  stringField(key: string, value: string): this {
    this.fields.push([key, quoteString(value)]);
    return this;
  }

  booleanField(key: string, value: boolean): this {
    this.fields.push([key, value ? 'T' : 'F']);
    return this;
  }

  /** The measurement and the tags, escaped and sorted: the start of every line of this series. */
  seriesKey(): string {
    let out = escapeMeasurement(this.measurement);
    for (const [key, value] of sortByKey(this.tags)) out += `,${escapeTag(key)}=${escapeTag(value)}`;
    return out;
  }

  line(timestampNs: string): string {
    if (this.fields.length === 0) throw new Error(`point of ${this.measurement} has no fields`);
    let out = this.seriesKey();
    let first = true;
    for (const [key, value] of sortByKey(this.fields)) {
      out += `${first ? ' ' : ','}${escapeTag(key)}=${value}`;
      first = false;
    }
    return `${out} ${timestampNs}`;
  }
}

/** Sorts in place by key like Array.prototype.sort() on the keys (UTF-16 code units); lists are short. */
function sortByKey(entries: Array<[string, string]>): Array<[string, string]> {
  for (let i = 1; i < entries.length; i++) {
    const current = entries[i] as [string, string];
    let j = i - 1;
    while (j >= 0 && (entries[j] as [string, string])[0] > current[0]) {
      entries[j + 1] = entries[j] as [string, string];
      j--;
    }
    entries[j + 1] = current;
  }
  return entries;
}
