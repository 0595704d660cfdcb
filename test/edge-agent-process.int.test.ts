/**
 * `storeloop edge` as an installer runs it: the built CLI as a child process against a real MQTT
 * broker (aedes on loopback). Its retained status carries the queue depth; `kill -9` leaves the
 * retained last will `offline`; SIGTERM publishes `offline` itself and exits 0; `--check` names bad keys.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { eventually } from './helpers/edge-agent.js';
import { EdgeAgentProcess } from './helpers/edge-agent-process.js';
import { EdgeTestBroker } from './helpers/edge-broker.js';
import { IngressPoster } from './helpers/edge-poster.js';
import { useCleanups } from './helpers/lifecycle.js';
import { testBuild } from './helpers/test-build.js';

const STATUS_TOPIC = 'storeloop/demo-store/status/edge-1';
const run = promisify(execFile);

const cleanups = useCleanups();

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [testBuild().cliMain, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('storeloop edge (process)', () => {
  it('keeps its retained status with the queue depth, and leaves the last will offline when killed with -9', async () => {
    const broker = await EdgeTestBroker.create();
    cleanups.push(() => broker.stop());
    const agent = await EdgeAgentProcess.create(testBuild(), broker.url);
    cleanups.push(() => agent.destroy());
    await agent.start();
    await eventually(
      () => broker.on(STATUS_TOPIC).length,
      (n) => n >= 1,
      'the first status',
    );

    await broker.stop();
    const poster = new IngressPoster(agent.ingressUrl, 'proc');
    for (let i = 0; i < 25; i++) expect(await poster.postOne()).toBe(202);
    expect((await agent.localStatus()).queue.depth).toBe(25);
    const before = broker.on(STATUS_TOPIC).length;
    await broker.start();
    const status = await eventually(
      () =>
        broker
          .on(STATUS_TOPIC)
          .slice(before)
          .map((m) => ({ retain: m.retain, body: JSON.parse(m.payload) as Record<string, unknown> })),
      (list) => list.length > 0,
      'a status after the reconnect',
    );
    expect(status[0]?.retain).toBe(true);
    expect(status[0]?.body).toMatchObject({ state: 'online', queue_depth: 25, clock_synced: true, version: expect.any(String) as unknown });
    await eventually(
      async () => (await agent.localStatus()).queue.depth,
      (d) => d === 0,
      'the backlog sent',
    );

    await agent.kill9();
    const will = await eventually(
      async () => (await broker.retained(STATUS_TOPIC)) ?? '',
      (p) => p.includes('offline'),
      'the retained last will',
    );
    expect(JSON.parse(will)).toEqual({ state: 'offline' });
  });

  it('publishes offline itself on SIGTERM, exits 0, and sends the queue it left on the next start', async () => {
    const broker = await EdgeTestBroker.create();
    cleanups.push(() => broker.stop());
    const agent = await EdgeAgentProcess.create(testBuild(), broker.url);
    cleanups.push(() => agent.destroy());
    await agent.start();
    await eventually(
      () => broker.on(STATUS_TOPIC).length,
      (n) => n >= 1,
      'the first status',
    );
    await broker.stop();
    const poster = new IngressPoster(agent.ingressUrl, 'term');
    for (let i = 0; i < 10; i++) await poster.postOne();
    expect(await agent.stop()).toBe(0);
    expect(agent.log).toMatch(/"msg":"edge agent stopped"/);

    await broker.start();
    await agent.start();
    await eventually(
      () =>
        new Set(
          broker.received
            .filter((m) => m.topic.includes('/touchpoint/') || m.topic.includes('/device/'))
            .map((m) => (JSON.parse(m.payload) as { mid: string }).mid),
        ).size,
      (n) => n === 10,
      'the queue of the previous run',
    );
    expect(await agent.stop()).toBe(0);
    const retained = await eventually(
      async () => JSON.parse((await broker.retained(STATUS_TOPIC)) ?? '{}') as Record<string, unknown>,
      (status) => status.state === 'offline',
      'the retained offline status',
    );
    expect(retained).toMatchObject({ state: 'offline', queue_depth: 0 });
  });

  it('prints its help, and --check validates a file, naming the key path and the env override', async () => {
    const help = await cli(['edge', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--config <file>/);
    expect(help.stdout).toMatch(/--check/);
    expect((await cli(['--help'])).stdout).toContain('edge');

    const dir = await mkdtemp(join(tmpdir(), 'storeloop-edge-check-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const good = join(dir, 'edge.yaml');
    await writeFile(good, 'agent: { id: edge-1, storeId: demo-store }\ngateway: { url: "mqtt://127.0.0.1:1883" }\nsources:\n  ingress: { port: 8090 }\n');
    const ok = await cli(['edge', '--config', good, '--check']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('agent: edge-1 in store demo-store');
    expect(ok.stdout).toContain('ingress 127.0.0.1:8090');

    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'agent: { id: edge-1, storeId: demo-store }\ngateway: { url: "http://gw" }\nqueue: { shedRawAbovePct: 120 }\nsources:\n  ble: { sourceId: ble-entrance }\n',
    );
    const failed = await cli(['edge', '--config', bad, '--check']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/gateway\.url: expected an mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ URL/);
    expect(failed.stderr).toMatch(/queue\.shedRawAbovePct: /);
    expect(failed.stderr).toMatch(/pseudonymise: required when sources\.ble is enabled/);
    const fromEnv = await cli(['edge', '--config', good, '--check'], { STORELOOP_EDGE_GATEWAY_URL: 'ftp://x' });
    expect(fromEnv.stderr).toMatch(/gateway\.url: .*\(from STORELOOP_EDGE_GATEWAY_URL\)/);
  });
});
