import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { ConfigError, configWarnings, loadConfig, parseConfig } from './load.js';
import { DEMO_STORE_ID } from './demo-store.js';

/** Writes `text` to a config file in a temp dir that is removed when the test finishes. */
function writeYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'storeloop-config-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'storeloop.yaml');
  writeFileSync(file, text);
  return file;
}

describe('config', () => {
  it('accepts the documented example file (config/example.yaml)', () => {
    const config = loadConfig(join(import.meta.dirname, 'example.yaml'), {});
    expect(config.stores.length).toBeGreaterThan(0);
    expect(config.eventLog.quotaBytes).toBe(1024 ** 3);
  });

  it('runs the built-in demo store with defaults when there is no file', () => {
    const config = loadConfig(undefined, {});
    expect(config.stores.map((s) => s.id)).toEqual([DEMO_STORE_ID]);
    expect(config.mqtt).toMatchObject({ port: 1883, wsPort: 8083, topicPrefix: 'storeloop', maxPayloadBytes: 262144 });
    expect(config.influx).toMatchObject({ api: 'v1', database: 'storeloop' });
    expect(Object.isFrozen(config.mqtt)).toBe(true);
  });

  it('applies STORELOOP_* environment overrides', () => {
    const config = loadConfig(undefined, {
      STORELOOP_MQTT_PORT: '11883',
      STORELOOP_WS_PORT: 'off',
      STORELOOP_HTTP_PORT: '18080',
      STORELOOP_INFLUX_URL: 'http://influx.example:8086',
      STORELOOP_INFLUX_API: 'v2',
      STORELOOP_INFLUX_BUCKET: 'b',
      STORELOOP_INFLUX_ORG: 'o',
      STORELOOP_INFLUX_TOKEN: 't',
      STORELOOP_INFLUX_DATABASE: 'd',
    });
    expect(config.mqtt.port).toBe(11883);
    expect(config.mqtt.wsPort).toBeNull();
    expect(config.http.port).toBe(18080);
    expect(config.influx).toMatchObject({ url: 'http://influx.example:8086', api: 'v2', bucket: 'b', org: 'o', token: 't', database: 'd' });
  });

  it('caps live update streams at 100 by default, and takes STORELOOP_HTTP_MAX_LIVE_STREAMS', () => {
    expect(loadConfig(undefined, {}).http.maxLiveStreams).toBe(100);
    expect(loadConfig(undefined, { STORELOOP_HTTP_MAX_LIVE_STREAMS: '7' }).http.maxLiveStreams).toBe(7);
    expect(() => loadConfig(undefined, { STORELOOP_HTTP_MAX_LIVE_STREAMS: '0' })).toThrow(/http\.maxLiveStreams: .*\(from STORELOOP_HTTP_MAX_LIVE_STREAMS\)/);
  });

  it('names the key path and the env var of a bad value', () => {
    expect(() => loadConfig(undefined, { STORELOOP_MQTT_PORT: 'abc' })).toThrow(/mqtt\.port: .*\(from STORELOOP_MQTT_PORT\)/);
    expect(() => loadConfig(undefined, { STORELOOP_INFLUX_API: 'v3' })).toThrow(/influx\.api: /);
    expect(() => loadConfig(undefined, { STORELOOP_SPOOL_QUOTA_BYTES: '1000000' })).toThrow(
      /STORELOOP_SPOOL_QUOTA_BYTES was renamed to STORELOOP_LOG_QUOTA_BYTES/,
    );
  });

  it('names the path of a bad key in a YAML file, e.g. a sensor in an unknown zone', () => {
    const file = writeYaml(`
stores:
  - id: s1
    zones: [{ id: entrance, kind: entrance }]
    sensors:
      - { id: ble-1, type: ble, zone: entrance }
      - { id: ble-2, type: ble, zone: backroom }
`);
    try {
      loadConfig(file, {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([expect.stringMatching(/^stores\.0\.sensors\.1\.zone: unknown zone 'backroom'/)]);
    }
  });

  it('refuses duplicate source ids within a store and a non-mapping file', () => {
    expect(() =>
      parseConfig({ stores: [{ id: 's', zones: [{ id: 'z' }], sensors: [{ id: 'x', type: 'ble', zone: 'z' }], devices: [{ id: 'x', type: 'environment' }] }] }),
    ).toThrow(/stores\.0\.devices\.0\.id: duplicate source id 'x'/);
    expect(() => loadConfig(writeYaml('- a\n- b\n'), {})).toThrow(/top level/);
    expect(() => loadConfig(writeYaml('mqtt: [\n'), {})).toThrow(/not valid YAML/);
  });

  it("takes a people counter's audit, and refuses one on another device or one that counted nobody", () => {
    const store = (device: Record<string, unknown>) => ({ stores: [{ id: 's', zones: [{ id: 'z', kind: 'entrance' }], devices: [device] }] });
    const audited = parseConfig(store({ id: 'c', type: 'people_counter', zone: 'z', audit: { counted: 95, actual: 100, on: '2026-11-02' } }));
    expect(audited.stores[0]?.devices[0]?.audit).toEqual({ counted: 95, actual: 100, on: '2026-11-02' });
    expect(() => parseConfig(store({ id: 'e', type: 'environment', audit: { counted: 95, actual: 100 } }))).toThrow(
      /stores\.0\.devices\.0\.audit: only a people_counter takes an audit/,
    );
    expect(() => parseConfig(store({ id: 'c', type: 'people_counter', audit: { counted: 0, actual: 100 } }))).toThrow(/stores\.0\.devices\.0\.audit\.counted/);
    expect(() => parseConfig(store({ id: 'c', type: 'people_counter', audit: { counted: 5, actual: 0 } }))).toThrow(/stores\.0\.devices\.0\.audit\.actual/);
  });

  it('refuses a MAC address as a store or source id, in any spelling, and an unknown time zone', () => {
    const store = (over: Record<string, unknown>) => ({ id: 's', zones: [{ id: 'z' }], sensors: [{ id: 'x', type: 'ble', zone: 'z' }], ...over });
    for (const mac of ['aa-bb-cc-dd-ee-05', 'aabb.ccdd.ee05', 'AABBCCDDEE05']) {
      expect(() => parseConfig({ stores: [store({ sensors: [{ id: mac, type: 'ble', zone: 'z' }] })] }), mac).toThrow(
        /stores\.0\.sensors\.0\.id: a MAC address is not an id/,
      );
      expect(() => parseConfig({ stores: [store({ id: mac })] }), mac).toThrow(/stores\.0\.id: a MAC address is not an id/);
    }
    expect(() => parseConfig({ stores: [store({ timezone: 'Europe/Pariss' })] })).toThrow(/stores\.0\.timezone: unknown time zone/);
    expect(parseConfig({ stores: [store({ timezone: 'Europe/Paris' })] }).stores[0]?.timezone).toBe('Europe/Paris');
  });

  it('has no TLS listeners unless mqtt.tls is set; then defaults to all interfaces, 8883, 8084 and TLS 1.2', () => {
    expect(loadConfig(undefined, {}).mqtt.tls).toBeUndefined();
    const config = parseConfig({ mqtt: { tls: { certFile: 'gw.pem', keyFile: 'gw.key' } } });
    expect(config.mqtt.tls).toEqual({
      host: '0.0.0.0',
      port: 8883,
      wsPort: 8084,
      certFile: 'gw.pem',
      keyFile: 'gw.key',
      clientCertificates: 'off',
      minVersion: 'TLSv1.2',
    });
    expect(config.mqtt.host).toBe('127.0.0.1'); // the plaintext listeners stay on loopback
    expect(() => parseConfig({ mqtt: { tls: { certFile: 'gw.pem' } } })).toThrow(/mqtt\.tls\.keyFile: /);
    expect(() => parseConfig({ mqtt: { tls: { certFile: 'gw.pem', keyFile: 'gw.key', minVersion: 'TLSv1.1' } } })).toThrow(/mqtt\.tls\.minVersion: /);
    expect(() => parseConfig({ mqtt: { tls: { certFile: 'gw.pem', keyFile: 'gw.key', clientCertificates: 'required' } } })).toThrow(
      /mqtt\.tls\.caFile: client certificates need caFile/,
    );
  });

  it('takes the TLS keys from STORELOOP_MQTT_TLS_* variables, the key file included', () => {
    const config = loadConfig(undefined, {
      STORELOOP_MQTT_TLS_CERT_FILE: '/etc/storeloop/gw.pem',
      STORELOOP_MQTT_TLS_KEY_FILE: '/run/secrets/gw.key',
      STORELOOP_MQTT_TLS_CA_FILE: '/etc/storeloop/devices-ca.pem',
      STORELOOP_MQTT_TLS_CLIENT_CERTIFICATES: 'required',
      STORELOOP_MQTT_TLS_PORT: '18883',
      STORELOOP_MQTT_TLS_WS_PORT: 'off',
      STORELOOP_MQTT_TLS_HOST: '192.0.2.10',
    });
    expect(config.mqtt.tls).toMatchObject({
      host: '192.0.2.10',
      port: 18883,
      wsPort: null,
      keyFile: '/run/secrets/gw.key',
      caFile: '/etc/storeloop/devices-ca.pem',
      clientCertificates: 'required',
    });
    expect(() => loadConfig(undefined, { STORELOOP_MQTT_TLS_KEY_FILE: '/run/secrets/gw.key' })).toThrow(/mqtt\.tls\.certFile: /);
  });

  it('names an unknown key (a typo) instead of ignoring it, and wants stores in a file', () => {
    expect(() => loadConfig(writeYaml('influx:\n  ap: v2\nstores: [{ id: s, zones: [{ id: z }] }]\n'), {})).toThrow(/influx: Unrecognized key: "ap"/);
    expect(() => loadConfig(writeYaml('mqtt:\n  port: 1884\n'), {})).toThrow(/stores: /);
    // a store's own keys too: a misspelt timezone must not quietly fall back to UTC
    expect(() => loadConfig(writeYaml('stores: [{ id: s, timzone: Europe/Paris, zones: [{ id: z }] }]\n'), {})).toThrow(
      /stores\.0: Unrecognized key: "timzone"/,
    );
  });

  it('still loads the deprecated influx.flushIntervalMs, maxRetries and maxRetryDelayMs, with one warning each', () => {
    const file = writeYaml(
      'influx:\n  flushIntervalMs: 25\n  maxRetries: 5\n  maxRetryDelayMs: 15000\n  batchSize: 100\nstores: [{ id: s, zones: [{ id: z }] }]\n',
    );
    const config = loadConfig(file, {});
    expect(config.influx.batchSize).toBe(100);
    const warnings = configWarnings(config);
    expect(warnings).toHaveLength(3);
    for (const [i, key] of ['influx.flushIntervalMs', 'influx.maxRetries', 'influx.maxRetryDelayMs'].entries()) {
      expect(warnings[i]).toMatch(new RegExp(`^${key.replace('.', '\\.')} is deprecated and ignored \\(.+\\); remove it: a later version will refuse it$`));
    }
    expect(configWarnings(parseConfig({ influx: { maxRetries: 0 } }))).toEqual([expect.stringMatching(/^influx\.maxRetries is deprecated/)]);
    // still validated while accepted: a bad value is an error, not a warning
    expect(() => parseConfig({ influx: { maxRetries: -1 } })).toThrow(/influx\.maxRetries: /);
  });

  it('warns about nothing when no deprecated key is set (the example file, the built-in demo config)', () => {
    expect(configWarnings(loadConfig(join(import.meta.dirname, 'example.yaml'), {}))).toEqual([]);
    expect(configWarnings(loadConfig(undefined, {}))).toEqual([]);
  });
});
