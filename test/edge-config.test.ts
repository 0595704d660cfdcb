/** The agent's config: defaults, STORELOOP_EDGE_* overrides, errors that name the key path, the secret file. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { parse as parseYaml } from 'yaml';

import { DEFAULT_QUEUE_MAX_AGE_S, GatewayLinkSchema, IngressSchema, PseudonymiseSchema, QueueSchema } from '../edge/agent/config-schema.js';
import { createEdgeLogger } from '../edge/agent/edge-logger.js';
import { createConfiguredPseudonymiser, createSources } from '../edge/agent/sources.js';
import { EdgeConfigError } from '../edge/agent/errors.js';
import { loadEdgeConfig, parseEdgeConfig } from '../edge/agent/load-config.js';
import { ConfigSchema } from '../config/schema.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const MINIMAL = { agent: { id: 'edge-1', storeId: 'demo-store' }, gateway: { url: 'mqtt://gateway.local:1883' } };

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof EdgeConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected an EdgeConfigError');
}

describe('edge config', () => {
  it('fills the defaults and keeps the queue age inside the gateway ingest window', () => {
    const config = parseEdgeConfig(MINIMAL);
    expect(config.gateway).toMatchObject({ topicPrefix: 'storeloop', keepaliveS: 30, inflightWindow: 32, replayRatePerS: 200 });
    expect(config.queue).toMatchObject({ quotaBytes: 512 * 1024 ** 2, maxAgeSeconds: 6 * 86400, shedRawAbovePct: 80 });
    expect(config.status).toEqual({ intervalS: 30, clockCheck: 'auto' });
    expect(config.remoteConfig.enabled).toBe(true);
    expect(config.sources).toEqual({});
    const gateway = ConfigSchema.shape.ingest.parse({});
    expect(DEFAULT_QUEUE_MAX_AGE_S).toBeLessThan(gateway.maxPastSeconds);
    expect(Object.isFrozen(config.queue)).toBe(true);
  });

  it('names the key path of every problem, unknown keys included', () => {
    const problems = problemsOf(() =>
      parseEdgeConfig({
        agent: { id: 'edge 1', storeId: 'demo-store' },
        gateway: { url: 'http://gw:1883', reconnectMinMs: 1000, reconnectMaxMs: 100 },
        queue: { shedRawAbovePct: 0, quotaBytes: 100_000, segmentBytes: 200_000 },
        sources: { ingress: { port: 70000 }, blu: {} },
        status: { colour: 'red' },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^agent\.id: /),
        'gateway.url: expected an mqtt://, mqtts://, ws:// or wss:// URL',
        expect.stringMatching(/^queue\.shedRawAbovePct: /),
        expect.stringMatching(/^sources\.ingress\.port: /),
        expect.stringMatching(/^sources: .*blu/),
        expect.stringMatching(/^status: .*colour/),
      ]),
    );
    expect(problemsOf(() => parseEdgeConfig({ ...MINIMAL, queue: { quotaBytes: 100_000, segmentBytes: 200_000 } }))).toEqual([
      'queue.segmentBytes: segmentBytes must not exceed quotaBytes',
    ]);
    expect(problemsOf(() => parseEdgeConfig({ ...MINIMAL, gateway: { ...MINIMAL.gateway, reconnectMinMs: 1000, reconnectMaxMs: 100 } }))).toEqual([
      'gateway.reconnectMaxMs: must be at least gateway.reconnectMinMs',
    ]);
  });

  it('requires pseudonymisation before any radio source, with exactly one secret source', () => {
    expect(problemsOf(() => parseEdgeConfig({ ...MINIMAL, sources: { meraki: { validator: 'v' } } }))).toEqual([
      'pseudonymise: required when sources.meraki is enabled: addresses are hashed before they are queued',
    ]);
    expect(parseEdgeConfig({ ...MINIMAL, sources: { ble: { enabled: false } } }).pseudonymise).toBeUndefined();
    expect(problemsOf(() => parseEdgeConfig({ ...MINIMAL, pseudonymise: { mode: 'daily' } }))).toEqual([
      'pseudonymise.secret: set exactly one of secret and secretFile',
    ]);
    expect(problemsOf(() => parseEdgeConfig({ ...MINIMAL, pseudonymise: { mode: 'forever', secret: 'x'.repeat(32) } }))[0]).toMatch(/^pseudonymise\.mode: /);
    expect(problemsOf(() => parseEdgeConfig({ ...MINIMAL, pseudonymise: { mode: 'daily', secret: 'x'.repeat(32), rotationMinutes: 15 } }))).toEqual([
      'pseudonymise.rotationMinutes: only the short-lived mode rotates by minutes',
    ]);
    expect(parseEdgeConfig({ ...MINIMAL, pseudonymise: { secret: 's'.repeat(16) } }).pseudonymise?.mode).toBe('daily');
  });

  it('applies STORELOOP_EDGE_* overrides and says which variable a bad value came from', () => {
    const config = parseEdgeConfig(MINIMAL, {
      STORELOOP_EDGE_GATEWAY_URL: 'ws://gw:8083/mqtt',
      STORELOOP_EDGE_QUEUE_DIR: '/var/lib/storeloop-edge/queue',
      STORELOOP_EDGE_SECRET: 'from-the-environment-0123',
      STORELOOP_EDGE_QUEUE_QUOTA_BYTES: '1048576',
    });
    expect(config.gateway.url).toBe('ws://gw:8083/mqtt');
    expect(config.queue.dir).toBe('/var/lib/storeloop-edge/queue');
    expect(config.queue.quotaBytes).toBe(1048576);
    expect(config.pseudonymise).toMatchObject({ mode: 'daily', secret: 'from-the-environment-0123' });
    expect(problemsOf(() => parseEdgeConfig(MINIMAL, { STORELOOP_EDGE_QUEUE_QUOTA_BYTES: 'lots' }))).toEqual([
      expect.stringMatching(/^queue\.quotaBytes: .*\(from STORELOOP_EDGE_QUEUE_QUOTA_BYTES\)$/),
    ]);
    // the environment's secret replaces a secret file named in the YAML
    const replaced = parseEdgeConfig(
      { ...MINIMAL, pseudonymise: { mode: 'daily', secretFile: '/nonexistent' } },
      { STORELOOP_EDGE_SECRET: 'from-the-environment-0123' },
    );
    expect(replaced.pseudonymise?.secret).toBe('from-the-environment-0123');
  });

  it("reads the gateway link's PEM files, refuses a missing one by name, and wants certFile and keyFile together", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-edge-tls-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = parseEdgeConfig({ ...MINIMAL, gateway: { url: 'mqtts://gateway.local:8883', caFile } });
    expect(config.gateway.ca).toContain('BEGIN CERTIFICATE');
    expect(problemsOf(() => parseEdgeConfig({ ...MINIMAL, gateway: { url: 'mqtts://g:8883', caFile: join(dir, 'missing.pem') } }))).toEqual([
      `gateway.caFile: cannot read ${join(dir, 'missing.pem')}: ENOENT`,
    ]);
    expect(problemsOf(() => parseEdgeConfig({ ...MINIMAL, gateway: { url: 'mqtts://g:8883', certFile: caFile } }))).toEqual([
      'gateway.certFile: certFile and keyFile go together (the client certificate and its key)',
    ]);
  });

  it('reads the secret from secretFile and refuses a short or missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-edge-config-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const secretFile = join(dir, 'secret');
    await writeFile(secretFile, 'a-secret-of-32-characters-000000\n');
    const file = join(dir, 'edge.yaml');
    await writeFile(
      file,
      `agent: { id: edge-1, storeId: demo-store }\ngateway: { url: "mqtt://gw" }\npseudonymise: { mode: short-lived, rotationMinutes: 15, secretFile: ${secretFile} }\n`,
    );
    expect(loadEdgeConfig(file, {}).pseudonymise).toMatchObject({ mode: 'short-lived', rotationMinutes: 15, secret: 'a-secret-of-32-characters-000000' });
    await writeFile(secretFile, 'short\n');
    expect(problemsOf(() => loadEdgeConfig(file, {}))).toEqual([`pseudonymise.secretFile: ${secretFile} holds fewer than 16 bytes`]);
    expect(problemsOf(() => loadEdgeConfig(file, { STORELOOP_EDGE_SECRET_FILE: join(dir, 'missing') }))).toEqual([
      `pseudonymise.secretFile: cannot read ${join(dir, 'missing')}: ENOENT`,
    ]);
    await writeFile(file, 'agent: [\n');
    expect(() => loadEdgeConfig(file, {})).toThrow(/not valid YAML/);
  });
});

describe('edge source blocks', () => {
  const RADIO = {
    ...MINIMAL,
    pseudonymise: { mode: 'daily', secret: 'a-secret-for-the-source-tests-00' },
  };
  const BLOCKS: Record<string, Record<string, unknown>> = {
    ble: { sourceId: 'ble-entrance', policy: { allowUuids: [], others: 'drop' } },
    meraki: { validator: 'v', secret: 's', defaultSourceId: 'wifi-front', listen: { host: '127.0.0.1', port: 8091 } },
    probes: { sourceId: 'wifi-front', input: { interface: 'wlan1' } },
  };
  const problemsOfSources = (sources: Record<string, unknown>) =>
    problemsOf(() => {
      const config = parseEdgeConfig({ ...RADIO, sources });
      return createSources(config, { log: createEdgeLogger('silent'), pseudonymiser: createConfiguredPseudonymiser(config) });
    });

  it.each([
    ['ble', { ...BLOCKS.ble, intervalMz: 2000 }, /^sources\.ble: .*intervalMz/],
    ['ble', { ...BLOCKS.ble, policy: { allowUuids: [], others: 'drop', other: 'keep' } }, /^sources\.ble: .*policy.*other/],
    ['meraki', { ...BLOCKS.meraki, valdator: 'v' }, /^sources\.meraki: .*valdator/],
    ['meraki', { ...BLOCKS.meraki, listen: { host: '127.0.0.1', prot: 8091 } }, /^sources\.meraki: .*listen.*prot/],
    ['probes', { ...BLOCKS.probes, intervalMz: 2000 }, /^sources\.probes: .*intervalMz/],
  ])('refuses a misspelt key in sources.%s, naming it', (name, block, problem) => {
    expect(problemsOfSources({ [name]: block })).toEqual([expect.stringMatching(problem)]);
  });

  it('accepts every documented block as it is', () => {
    const config = parseEdgeConfig({ ...RADIO, sources: BLOCKS });
    const sources = createSources(config, { log: createEdgeLogger('silent'), pseudonymiser: createConfiguredPseudonymiser(config) });
    expect(sources.map((s) => s.block)).toEqual(['ble', 'meraki', 'probes']);
  });
});

describe('docs/edge.md', () => {
  const docs = readFile(join(import.meta.dirname, '..', 'docs', 'edge.md'), 'utf8');

  it('has an example that the agent accepts, every source block included', async () => {
    const yaml = /## Example[\s\S]*?```yaml[^\n]*\n([\s\S]*?)```/.exec(await docs)?.[1];
    expect(yaml).toBeDefined();
    const config = parseEdgeConfig(parseYaml(yaml ?? ''), { STORELOOP_EDGE_SECRET: 'a-secret-for-the-docs-example-00' }, 'docs example');
    const sources = createSources(config, { log: createEdgeLogger('silent'), pseudonymiser: createConfiguredPseudonymiser(config) });
    expect(sources.map((s) => s.block)).toEqual(['ble', 'meraki']);
    expect(config.queue.maxAgeSeconds).toBeLessThan(ConfigSchema.shape.ingest.parse({}).maxPastSeconds);
  });

  it('documents every key of the schema', async () => {
    const text = await docs;
    const keys = [
      ...Object.keys(GatewayLinkSchema.shape).map((k) => `gateway.${k}`),
      ...Object.keys(QueueSchema.in.shape).map((k) => `queue.${k}`),
      ...Object.keys(PseudonymiseSchema.shape).map((k) => `pseudonymise.${k}`),
      ...Object.keys(IngressSchema.shape).map((k) => k),
      'agent.id',
      'agent.storeId',
      'status.intervalS',
      'status.clockCheck',
      'remoteConfig.enabled',
      'log.level',
    ];
    const undocumented = keys.filter((key) => !text.includes(`\`${key}\``) && !text.includes(`${key}\``) && !text.includes(`\`${key}`));
    expect(undocumented).toEqual([]);
  });
});
