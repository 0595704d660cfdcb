import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { freePort } from './free-port.js';
import { findInfluxd, renderInfluxdConfig, startLocalInfluxd } from './local-influxd.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-local-influxd-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startLocalInfluxd', () => {
  it('runs two instances side by side, each on its own ports, and stops them', async () => {
    const [dirA, dirB] = await Promise.all([tempDir(), tempDir()]);
    const [a, b] = await Promise.all([startLocalInfluxd({ dataDir: dirA }), startLocalInfluxd({ dataDir: dirB })]);
    onTestFinished(() => Promise.all([a.stop(), b.stop()]).then(() => undefined));
    expect(a.port).not.toBe(b.port);
    for (const instance of [a, b]) {
      expect((await fetch(`${instance.url}/ping`)).status).toBe(204);
    }
    const config = await readFile(join(dirA, 'influxd.conf'), 'utf8');
    expect(config).toMatch(/^bind-address = "127\.0\.0\.1:\d+"$/m);
    expect(config).not.toContain(':8088');

    await a.stop();
    expect(isRunning(a.pid)).toBe(false);
    await expect(fetch(`${a.url}/ping`)).rejects.toThrow();
    expect((await fetch(`${b.url}/ping`)).status).toBe(204);
  });

  it('fails with the log tail when influxd cannot bind its port', async () => {
    const dir = await tempDir();
    const first = await startLocalInfluxd({ dataDir: dir });
    onTestFinished(() => first.stop());
    const error = await startLocalInfluxd({ dataDir: await tempDir(), port: first.port }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/influxd exited .*Log tail:[\s\S]*address already in use/);
  });
});

describe('influxd helpers', () => {
  it('finds influxd on PATH or in the Debian locations', () => {
    expect(findInfluxd('')).toMatch(/\/influxd$/);
  });

  it('renders a loopback-only config with the HTTP and RPC ports it is given', async () => {
    const port = await freePort();
    const config = renderInfluxdConfig({ dataDir: '/tmp/x', httpPort: port, rpcPort: 1234 });
    expect(config).toContain(`bind-address = "127.0.0.1:${port}"`);
    expect(config).toContain('bind-address = "127.0.0.1:1234"');
    expect(config).toContain('reporting-disabled = true');
    expect(config).toMatch(/\[monitor\]\s+store-enabled = false/);
    expect(config).toContain('dir = "/tmp/x/meta"');
  });
});
