/**
 * Property tests of the topic parsers: any string is answered (never thrown at), a built topic parses
 * back to its parts, and a bad id is refused by the builder as it is by the parser.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { buildConfigTopic, buildTopic, ID_PATTERN, isContractTopic, MESSAGE_KINDS, parseConfigTopic, parseTopic } from './topics.js';

const PREFIX = 'storeloop';
const entityId = fc.stringMatching(ID_PATTERN);
const kind = fc.constantFrom(...MESSAGE_KINDS);
/** Topic-like strings: levels of anything, wildcards, empty levels, non-ASCII and control characters. */
const hostileTopic = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc
    .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 70 }), fc.constantFrom('+', '#', '', '..', 'status', 'config', PREFIX)), { maxLength: 8 })
    .map((levels) => levels.join('/')),
);

describe('parseTopic (property tests)', () => {
  it('answers any string with the parts or a rejection with a reason, never an exception', () => {
    fc.assert(
      fc.property(hostileTopic, (rest) => {
        const topic = `${PREFIX}/${rest}`;
        expect(isContractTopic(PREFIX, topic)).toBe(true);
        const parsed = parseTopic(PREFIX, topic);
        if (parsed.ok) {
          expect(buildTopic(PREFIX, parsed)).toBe(topic);
        } else {
          expect(['topic_invalid', 'topic_unknown_kind']).toContain(parsed.reason);
          expect(parsed.detail.length).toBeGreaterThan(0);
          expect(parsed.detail.length).toBeLessThan(200); // an excerpt of the bad id, never the whole topic
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('parses every topic it builds back to the same store, kind and source', () => {
    fc.assert(
      fc.property(entityId, kind, entityId, (storeId, k, sourceId) => {
        expect(parseTopic(PREFIX, buildTopic(PREFIX, { storeId, kind: k, sourceId }))).toEqual({ ok: true, storeId, kind: k, sourceId });
      }),
      { numRuns: 500 },
    );
  });

  it('refuses to build a topic from an id the parser would refuse', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 80 }).filter((id) => !ID_PATTERN.test(id)),
        kind,
        (bad, k) => {
          expect(() => buildTopic(PREFIX, { storeId: bad, kind: k, sourceId: 'edge-1' })).toThrow(/invalid storeId/);
          expect(() => buildTopic(PREFIX, { storeId: 's1', kind: k, sourceId: bad })).toThrow(/invalid sourceId/);
        },
      ),
    );
  });
});

describe('parseConfigTopic (property tests)', () => {
  it('answers any string with the target or undefined, never an exception', () => {
    fc.assert(
      fc.property(hostileTopic, (rest) => {
        const target = parseConfigTopic(PREFIX, `${PREFIX}/${rest}`);
        if (target !== undefined) expect(buildConfigTopic(PREFIX, target.storeId, target.agentId)).toBe(`${PREFIX}/${rest}`);
      }),
      { numRuns: 1_000 },
    );
  });

  it('parses every config topic it builds back to the same store and agent', () => {
    fc.assert(
      fc.property(entityId, entityId, (storeId, agentId) => {
        expect(parseConfigTopic(PREFIX, buildConfigTopic(PREFIX, storeId, agentId))).toEqual({ storeId, agentId });
      }),
    );
  });
});
