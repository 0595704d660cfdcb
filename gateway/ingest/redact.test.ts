import { describe, expect, it } from 'vitest';

import { payloadExcerpt, RejectionLog, type RejectionRecord } from './rejection.js';
import { maskMacAddressesInText } from '../../protocol/index.js';
import { maskClientId, REDACTED, redactPayloadText } from './redact.js';

/** Every spelling of aa:bb:cc:dd:ee:05 that has been seen to slip past the mask. */
const MAC_SPELLINGS = ['aa:bb:cc:dd:ee:05', 'AA-BB-CC-DD-EE-05', 'aabb.ccdd.ee05', 'aa bb cc dd ee 05', 'aabbccddee05', 'mac aabbccddee05 seen'];

describe('redaction of what the gateway shows', () => {
  it('masks every MAC spelling in free text', () => {
    for (const spelling of MAC_SPELLINGS) {
      const masked = maskMacAddressesInText(`before ${spelling} after`);
      expect(masked, spelling).not.toMatch(/ee.?05/i);
      expect(masked).toContain('xx:xx:xx:xx:xx:xx');
    }
  });

  it('undoes JSON escapes before masking, in JSON and in text that is not JSON', () => {
    const escaped = '{"v":1,"label":"aa\\u003abb\\u003acc\\u003add\\u003aee\\u003a05"}';
    expect(redactPayloadText(escaped)).not.toMatch(/ee.?05/i);
    expect(redactPayloadText(`${escaped.slice(0, -2)} broken`)).not.toMatch(/ee.?05/i);
  });

  it('removes a customer reference at any depth, whether or not the payload is valid JSON', () => {
    const valid = JSON.stringify({ v: 1, action: 'login', customer: 'CRM-000123', nested: [{ customer: 'CRM-000456' }] });
    const shown = redactPayloadText(valid);
    expect(shown).not.toContain('CRM-');
    expect(JSON.parse(shown)).toMatchObject({ customer: REDACTED, nested: [{ customer: REDACTED }] });
    expect(redactPayloadText('{"v":1,"customer": "CRM-000123", "ts": oops}')).not.toContain('CRM-');
    expect(redactPayloadText('{"v":1,"customer":"CRM-000123')).not.toContain('CRM-');
  });

  it('redacts a customer key beyond the excerpt length, and keeps the excerpt bounded and on one line', () => {
    const payload = Buffer.from(JSON.stringify({ v: 1, padding: 'x'.repeat(400), customer: 'CRM-999', label: 'line\nbreak' }));
    const excerpt = payloadExcerpt(payload);
    expect(excerpt.length).toBeLessThanOrEqual(161);
    expect(payloadExcerpt(payload, 10_000)).not.toContain('CRM-');
    expect(payloadExcerpt('a\nb\rc')).toBe('a b c');
  });

  it('masks MAC-shaped client ids in the rejection log', () => {
    expect(maskClientId('aa:bb:cc:dd:ee:05')).toBe('xx:xx:xx:xx:xx:xx');
    expect(maskClientId('kiosk-1')).toBe('kiosk-1');
    const log = new RejectionLog(5);
    const record: RejectionRecord = {
      reason: 'json_invalid',
      detail: 'x',
      time: new Date(0).toISOString(),
      clientId: 'AABBCCDDEE05',
      topic: 't',
      store: null,
      kind: null,
      excerpt: '',
    };
    log.add(record);
    expect(log.list()[0]?.clientId).toBe('xx:xx:xx:xx:xx:xx');
  });
});
