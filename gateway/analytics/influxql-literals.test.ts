import { describe, expect, it } from 'vitest';

import { msLiteral, numberLiteral, quoteIdentifier, quoteString, tagEquals } from './influxql-literals.js';

describe('InfluxQL literals', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it\\'s'"],
    ['back\\slash', "'back\\\\slash'"],
    ['x\' OR "store" =~ /.*/ --', "'x\\' OR \"store\" =~ /.*/ --'"],
    ["\\' OR 1=1", "'\\\\\\' OR 1=1'"],
    ['', "''"],
  ])('quotes the string %j so it stays one literal', (value, quoted) => {
    expect(quoteString(value)).toBe(quoted);
  });

  it('leaves no unescaped quote inside a literal, whatever the input', () => {
    for (const value of ["'", "\\'", "\\\\'", "a'b'c", "'; DROP DATABASE storeloop; '", "\n'\r"]) {
      const body = quoteString(value).slice(1, -1);
      // every quote in the body is preceded by an odd number of backslashes
      for (let i = body.indexOf("'"); i >= 0; i = body.indexOf("'", i + 1)) {
        let slashes = 0;
        for (let j = i - 1; j >= 0 && body[j] === '\\'; j -= 1) slashes += 1;
        expect(slashes % 2, `${JSON.stringify(value)} at ${i}`).toBe(1);
      }
    }
  });

  it('quotes identifiers and compares a tag with a literal', () => {
    expect(quoteIdentifier('in')).toBe('"in"');
    expect(quoteIdentifier('a"b')).toBe('"a\\"b"');
    expect(tagEquals('zone', "aisle'1")).toBe("\"zone\" = 'aisle\\'1'");
  });

  it('writes times and durations as whole milliseconds only', () => {
    expect(msLiteral(1767261600000)).toBe('1767261600000ms');
    expect(msLiteral(0)).toBe('0ms');
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) expect(() => msLiteral(bad)).toThrow(RangeError);
  });

  it('writes scores as plain decimals and refuses what InfluxQL could not read', () => {
    expect(numberLiteral(4)).toBe('4');
    expect(numberLiteral(-2.5)).toBe('-2.5');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1e21, 1e-7]) expect(() => numberLiteral(bad)).toThrow(RangeError);
  });
});
