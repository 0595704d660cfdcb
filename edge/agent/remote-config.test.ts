import { describe, expect, it } from 'vitest';

import { parseEdgeConfig } from './load-config.js';
import { baseSettings, resolveRemoteConfig, type SourceBlockValidator } from './remote-config.js';

const base = baseSettings(
  parseEdgeConfig({ agent: { id: 'edge-1', storeId: 'demo-store' }, gateway: { url: 'mqtt://gw' }, sources: { ingress: { sourceIds: ['kiosk-1'] } } }),
);
const acceptAll: SourceBlockValidator = () => undefined;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('resolveRemoteConfig', () => {
  it('merges a valid document over the file settings; keys left out keep the file values', () => {
    const result = resolveRemoteConfig(
      json({ rev: 7, queue: { shedRawAbovePct: 70 }, gateway: { replayRatePerS: 50 }, sources: { ble: { intervalMs: 2000 } } }),
      base,
      acceptAll,
    );
    expect(result).toEqual({
      ok: true,
      rev: '7',
      settings: { ...base, shedRawAbovePct: 70, replayRatePerS: 50, sources: { ble: { intervalMs: 2000 } } },
    });
  });

  it('goes back to the file values for {} and for an empty retained message', () => {
    expect(resolveRemoteConfig(json({}), base, acceptAll)).toEqual({ ok: true, rev: null, settings: { ...base, sources: {} } });
    expect(resolveRemoteConfig(Buffer.alloc(0), base, acceptAll)).toEqual({ ok: true, rev: null, settings: base });
  });

  it('lets the ingress allowlist be replaced or lifted (null)', () => {
    const lifted = resolveRemoteConfig(json({ sources: { ingress: { sourceIds: null } } }), base, acceptAll);
    expect(lifted.ok && lifted.settings.ingressSourceIds).toBeNull();
  });

  it('refuses the whole document naming the path, keeping its rev for the status', () => {
    expect(resolveRemoteConfig(json({ rev: 'r9', status: { intervalS: 1 } }), base, acceptAll)).toMatchObject({
      ok: false,
      rev: 'r9',
      detail: expect.stringMatching(/^status\.intervalS: /) as unknown,
    });
    expect(resolveRemoteConfig(json({ rev: 'r9', queue: { dir: '/tmp' } }), base, acceptAll)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/queue.*dir/) as unknown,
    });
    expect(resolveRemoteConfig(Buffer.from('{"rev":'), base, acceptAll)).toMatchObject({
      ok: false,
      rev: null,
      detail: expect.stringMatching(/^not JSON/) as unknown,
    });
    const refusing: SourceBlockValidator = (name) => (name === 'ble' ? 'sources.ble.intervalMs: too small' : undefined);
    expect(resolveRemoteConfig(json({ rev: 'r10', sources: { ble: { intervalMs: 1 } } }), base, refusing)).toEqual({
      ok: false,
      rev: 'r10',
      detail: 'sources.ble.intervalMs: too small',
    });
  });
});
