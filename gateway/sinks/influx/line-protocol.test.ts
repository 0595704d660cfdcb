import { Point } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';

import { LineBuilder } from './line-protocol.js';

const HOSTILE = [
  'plain',
  'with space',
  'comma,here',
  'equals=sign',
  'quote"mark',
  'back\\slash',
  'new\nline',
  'cr\rtab\t',
  '"\\,= \n',
  'ünïcødé ✓',
  '',
  '\\"',
  'trailing\\',
];

describe('LineBuilder', () => {
  it('writes the same bytes as the official client’s Point, for hostile tag values and string fields', () => {
    for (const [i, text] of HOSTILE.entries()) {
      const ts = `17000000000000000${String(i).padStart(2, '0')}`;
      const ours = new LineBuilder('sighting')
        .tag('zone', text)
        .tag('store', 's 1')
        .tag('sensor', `b,${text}`)
        .stringField('visitor', text)
        .intField('rssi', -67)
        .floatField('value', 4.5)
        .booleanField('randomized', i % 2 === 0);
      const reference = new Point('sighting')
        .tag('zone', text)
        .tag('store', 's 1')
        .tag('sensor', `b,${text}`)
        .stringField('visitor', text)
        .intField('rssi', -67)
        .floatField('value', 4.5)
        .booleanField('randomized', i % 2 === 0);
      expect(ours.line(ts), JSON.stringify(text)).toBe(reference.timestamp(ts).toLineProtocol());
    }
  });

  it('sorts tags and fields by key as Point does, whatever the order they were added in', () => {
    const ours = new LineBuilder('m').tag('zeta', 'z').tag('alpha', 'a').tag('Beta', 'b').intField('n', 1).stringField('a', 'x').floatField('Z', 0.25);
    const reference = new Point('m').tag('zeta', 'z').tag('alpha', 'a').tag('Beta', 'b').intField('n', 1).stringField('a', 'x').floatField('Z', 0.25);
    expect(ours.line('1')).toBe(reference.timestamp('1').toLineProtocol());
  });

  it('refuses what line protocol cannot carry', () => {
    expect(() => new LineBuilder('m').line('1')).toThrow(/no fields/);
    expect(() => new LineBuilder('m').intField('n', Number.NaN)).toThrow(/invalid integer/);
    expect(() => new LineBuilder('m').floatField('x', Number.POSITIVE_INFINITY)).toThrow(/invalid float/);
  });
});
