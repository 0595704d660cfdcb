/**
 * The `storeloop` command as a user runs it: the built bin, a gateway process configured by env vars,
 * a third-party client (mosquitto_pub) publishing as docs/protocol.md says, and a clean SIGTERM stop.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '../devtools/free-port.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';
import { testBuild } from './helpers/test-build.js';

// the bin beside the run's build, laid out as npm installs the package
const BIN = testBuild().bin;

function run(args: string[], env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('storeloop CLI', () => {
  it('prints help for the command and its subcommands', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    for (const command of ['gateway', 'simulate', 'demo', 'config', 'sinks', 'replay', 'tokens']) expect(help.stdout).toContain(command);
    expect(run(['tokens', 'add', '--help']).stdout).toMatch(/--name <name>(.*\n)*.*--scope <scopes>(.*\n)*.*--expires <duration>(.*\n)*.*--config <file>/);
    expect(run(['sinks', '--help']).stdout).toMatch(/--token <token>.*(\n.*)*STORELOOP_TOKEN/);
    expect(run(['simulate', '--help']).stdout).toMatch(/--seed.*\n(.*\n)*.*--speed/);
  });

  it('checks a config file and names the path of a bad key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'storeloop-cli-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'stores:\n  - id: s1\n    zones: [{ id: door, kind: entrance }]\n    sensors: [{ id: ble-1, type: ble, zone: door }]\n');
    const ok = run(['config', 'check', good]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('s1: 1 zones, 1 sensors');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'mqtt:\n  port: seventeen\nstores:\n  - id: s1\n    zones: [{ id: door }]\n');
    const failed = run(['config', 'check', bad]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/mqtt\.port: /);
    expect(run(['config', 'check', good], { STORELOOP_INFLUX_API: 'v9' }).stderr).toMatch(/influx\.api: .*STORELOOP_INFLUX_API/);
  });
});

describe('storeloop gateway process', () => {
  let influxd: TestInfluxd;
  let gateway: ChildProcess | undefined;
  const ports = { mqtt: 0, ws: 0, http: 0 };

  beforeAll(async () => {
    influxd = await startInfluxd();
    ports.mqtt = await freePort();
    ports.ws = await freePort();
    ports.http = await freePort();
  });
  afterAll(async () => {
    gateway?.kill('SIGKILL');
    await influxd?.stop();
  });

  it('runs with env overrides, takes a mosquitto_pub message as docs/protocol.md shows, and stops cleanly on SIGTERM', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'storeloop-cli-state-'));
    gateway = spawn(process.execPath, [BIN, 'gateway'], {
      env: {
        ...process.env,
        STORELOOP_MQTT_HOST: '127.0.0.1',
        STORELOOP_HTTP_HOST: '127.0.0.1',
        STORELOOP_MQTT_PORT: String(ports.mqtt),
        STORELOOP_WS_PORT: String(ports.ws),
        STORELOOP_HTTP_PORT: String(ports.http),
        STORELOOP_INFLUX_URL: influxd.url,
        STORELOOP_INFLUX_API: 'v1',
        STORELOOP_INFLUX_DATABASE: 'cli',
        STORELOOP_STATE_DIR: stateDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    gateway.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    gateway.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => gateway?.once('exit', (code) => resolve(code)));

    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await fetch(`http://127.0.0.1:${ports.http}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
    }
    expect(ready, output).toBe(true);

    // the installer's steps: a credential for the kiosk from the CLI while the gateway runs, then the device publishes
    const credentials = run(['credentials', 'add', '--role', 'device', '--store', 'demo-store', '--source', 'kiosk-1', '--json'], {
      STORELOOP_STATE_DIR: stateDir,
    });
    expect(credentials.status, credentials.stderr).toBe(0);
    const login = JSON.parse(credentials.stdout) as { username: string; password: string };
    expect(login.username).toBe('demo-store/kiosk-1');
    const ts = Date.now();
    const publish = (password: string) =>
      execFileSync(
        'mosquitto_pub',
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(ports.mqtt),
          '-u',
          login.username,
          '-P',
          password,
          '-q',
          '1',
          '-t',
          'storeloop/demo-store/touchpoint/kiosk-1',
          '-m',
          JSON.stringify({ ts, mid: 'mp-1', action: 'tap' }),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
      );
    expect(() => publish('not-the-secret')).toThrow(/bad user name or password/);
    publish(login.password);
    // acknowledged = in the event log; the InfluxDB sink writes it at its own pace
    const series = await eventually(
      () => influxd.query('cli', `SELECT "count", "touchpoint_type" FROM interaction WHERE "touchpoint"='kiosk-1'`, { epoch: 'ms' }),
      (s) => (s[0]?.values.length ?? 0) > 0,
      'the tap in InfluxDB',
    );
    expect(series[0]?.values).toEqual([[ts, 1, 'kiosk']]);
    const revoked = run(['credentials', 'revoke', login.username], { STORELOOP_STATE_DIR: stateDir });
    expect(revoked.stdout).toContain('revoked demo-store/kiosk-1');
    expect(() => publish(login.password)).toThrow(/bad user name or password/);

    // the operator commands against the running gateway need a token, made with the CLI on its state dir
    const httpUrl = `http://127.0.0.1:${ports.http}`;
    const refused = run(['sinks', '--url', httpUrl]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/answered 401: .*--token or STORELOOP_TOKEN/);
    const state = { STORELOOP_STATE_DIR: stateDir };
    const added = run(['tokens', 'add', '--name', 'ops', '--scope', 'operator', '--expires', '1h'], state);
    expect(added.status, added.stderr).toBe(0);
    const token = /^ {2}(sl_\S+)$/m.exec(added.stdout)?.[1] ?? '';
    expect(token).toMatch(/^sl_[0-9a-f]{12}_/);
    expect(added.stdout).toContain(`Authorization: Bearer ${token}`);
    const withToken = { STORELOOP_TOKEN: token };

    // sinks, replay, detach
    const listed = run(['sinks', '--url', httpUrl], withToken);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^influx \(holds back ingest\): (ok|idle), position 1, 0 records/m);
    expect(listed.stdout).toContain('logged 1 = pending 0 + delivered 1 + dead_lettered 0 + filtered 0 + expired 0 (balanced)');
    const replay = run(['replay', '--sink', 'influx', '--since', '1h', '--url', httpUrl, '--token', token]);
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/^replaying log records 1–1 /);
    await eventually(
      () => run(['sinks', '--url', httpUrl], withToken).stdout,
      (out) => out.includes('replayed 1'),
      'the replay to reach InfluxDB',
    );
    const unknown = run(['sinks', 'detach', 'nope', '--url', httpUrl], withToken);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/404: no sink named 'nope' is attached \(attached: influx, consent, experience\)/);
    expect(run(['replay', '--sink', 'influx', '--since', '1h', '--url', 'http://127.0.0.1:1']).stderr).toMatch(
      /cannot reach the gateway at http:\/\/127\.0\.0\.1:1/,
    );

    // listed without its secret; revoked while the gateway runs: refused at the next request
    const tokens = run(['tokens', 'list'], state);
    expect(tokens.stdout).toMatch(/^ID {2,}NAME {2,}SCOPES {2,}CREATED {2,}LAST USED {2,}STATE$/m);
    expect(tokens.stdout).toMatch(/ ops {2,}operator {2,}.*active until /);
    expect(tokens.stdout).not.toContain(token.slice(-43));
    expect(run(['tokens', 'revoke', 'ops'], state).stdout).toMatch(/^revoked token [0-9a-f]{12} 'ops'/);
    const afterRevoke = run(['sinks', '--url', httpUrl], withToken);
    expect(afterRevoke.status).toBe(1);
    expect(afterRevoke.stderr).toMatch(/answered 401: the token has been revoked/);
    expect(run(['tokens', 'add', '--name', 'x', '--scope', 'superuser'], state).stderr).toMatch(/unknown scope 'superuser'/);

    gateway.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('gateway stopped');
  });
});

describe('storeloop demo', () => {
  let influxd: TestInfluxd;
  let demo: ChildProcess | undefined;

  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    demo?.kill('SIGKILL');
    await influxd?.stop();
  });

  it('serves its pages at once while history fills in, says how far it has got (history), then goes live and stops cleanly', async () => {
    const ports = { mqtt: await freePort(), ws: await freePort(), http: await freePort() };
    demo = spawn(process.execPath, [BIN, 'demo', '--backfill', '30m', '--seed', '3'], {
      env: {
        ...process.env,
        STORELOOP_MQTT_PORT: String(ports.mqtt),
        STORELOOP_WS_PORT: String(ports.ws),
        STORELOOP_HTTP_PORT: String(ports.http),
        STORELOOP_INFLUX_URL: influxd.url,
        STORELOOP_INFLUX_API: 'v1',
        STORELOOP_INFLUX_DATABASE: 'demo',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    demo.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    demo.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => demo?.once('exit', (code) => resolve(code)));
    const token = (await eventually(
      () => /API token\s+(\S+)/.exec(output)?.[1],
      (t) => t !== undefined,
      'the printed API token',
    )) as string;
    expect(output).toContain('history           the last 30m of store life, filling in now');
    type History = { from: string; to: string; reached: string; done: boolean } | null;
    const history = async () => {
      const reply = await fetch(`http://127.0.0.1:${ports.http}/api/v1/live`, { headers: { authorization: `Bearer ${token}` } });
      expect(reply.status).toBe(200);
      return ((await reply.json()) as { history: History }).history;
    };
    const first = await history();
    expect(first).not.toBeNull();
    const span = first as NonNullable<History>;
    expect(Date.parse(span.to) - Date.parse(span.from)).toBeGreaterThanOrEqual(30 * 60_000);
    expect(Date.parse(span.reached)).toBeGreaterThanOrEqual(Date.parse(span.from));
    expect(Date.parse(span.reached)).toBeLessThanOrEqual(Date.parse(span.to));
    // filled in up to the present (catch-ups included), then the live store takes over
    const filled = (await eventually(history, (h) => h?.done === true, 'the backfill done', 120_000)) as NonNullable<History>;
    expect(filled.from).toBe(span.from);
    expect(filled.reached).toBe(filled.to);
    expect(Date.now() - Date.parse(filled.to)).toBeLessThan(60_000);
    await eventually(
      () => output,
      (o) => o.includes('simulator: live store, in real time'),
      'the live store',
    );
    expect(output).toMatch(/simulator: 30m of history \(\d+ messages\) published in /);
    demo.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('storeloop demo stopped.');
  }, 180_000);
});
