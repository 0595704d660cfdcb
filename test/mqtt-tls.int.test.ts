/**
 * MQTT over TLS and over secure WebSocket against a real gateway, with certificates made by the real
 * openssl CLI: honest clients get their PUBACK; with client certificates required, no certificate,
 * one from an untrusted CA and an expired one are refused and counted with their reason, and a
 * verified one gives its CN; a client that does not trust the gateway's CA fails; plaintext MQTT on
 * the TLS port is refused and the gateway stays up; a renewed certificate is used without a restart.
 */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls, type PeerCertificate } from 'node:tls';

import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encodeConnect } from '../devtools/mqtt-wire.js';
import { makeTestCertificates, type CertificatePair, type TestCertificates } from '../devtools/test-certificates.js';
import { DEMO_STORE_ID } from '../config/index.js';
import { metricValue, publishAcked, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { startTestAgent } from './helpers/edge-agent.js';
import { eventually } from './helpers/lifecycle.js';

const TOPIC = 'storeloop/demo-store/touchpoint/kiosk-1';
const tap = () => ({ v: 1, ts: Date.now(), action: 'tap' });

let influxd: TestInfluxd;
let certs: TestCertificates;
let certDir: string;
/** Client certificates required. */
let strict: TestGateway;
/** Client certificates optional. */
let lenient: TestGateway;

/** The files the gateway is configured with: copies, so a test can renew them in place. */
let serverFiles: CertificatePair;

async function startTlsGateway(clientCertificates: 'optional' | 'required', server: CertificatePair): Promise<TestGateway> {
  const gw = await startTestGateway({
    influxUrl: influxd.url,
    config: {
      mqtt: {
        limits: { connectTimeoutMs: 1_000 },
        tls: { host: '127.0.0.1', port: 0, wsPort: 0, certFile: server.certFile, keyFile: server.keyFile, caFile: certs.ca.certFile, clientCertificates },
      },
    },
  });
  // the client certificate's CN names a device identity that may log in with it, and has no secret
  gw.addIdentity({ name: certs.clientName, role: 'device', stores: [DEMO_STORE_ID], source: 'kiosk-1', certificate: true, noSecret: true });
  return gw;
}

beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'storeloop-tls-'));
  certs = await makeTestCertificates(certDir);
  serverFiles = { certFile: join(certDir, 'live', 'gateway.pem'), keyFile: join(certDir, 'live', 'gateway.key') };
  await mkdir(join(certDir, 'live'));
  await copyFile(certs.server.certFile, serverFiles.certFile);
  await copyFile(certs.server.keyFile, serverFiles.keyFile);
  influxd = await startInfluxd();
  strict = await startTlsGateway('required', serverFiles);
  lenient = await startTlsGateway('optional', certs.server);
});

afterAll(async () => {
  await strict?.stop();
  await lenient?.stop();
  await influxd?.stop();
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

function urlsOf(gw: TestGateway): { mqtts: string; wss: string } {
  const { mqtts, wss } = gw.gateway.urls();
  if (mqtts === null || wss === null) throw new Error('the gateway lists no mqtts:// or wss:// URL');
  return { mqtts, wss };
}

/** TLS options of a client: trusts `ca` (the gateway's CA by default) and presents `certificate` if given. */
async function tlsOptions(options: { certificate?: CertificatePair; ca?: string } = {}): Promise<IClientOptions> {
  return {
    ca: await readFile(options.ca ?? certs.ca.certFile),
    ...(options.certificate ? { cert: await readFile(options.certificate.certFile), key: await readFile(options.certificate.keyFile) } : {}),
  };
}

/**
 * Connects over mqtts:// or wss:// and resolves with the client on CONNACK, or with the error that
 * ended the attempt. The one place a TLS test connects: credentials go here when MQTT authentication needs them.
 */
async function connectSecure(url: string, options: IClientOptions): Promise<MqttClient | Error> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, clientId: `tls-${Math.random().toString(36).slice(2, 8)}`, ...options });
  const outcome = await new Promise<MqttClient | Error>((resolve) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => resolve(err));
    client.once('close', () => resolve(new Error('closed before CONNACK')));
  });
  if (outcome instanceof Error) client.end(true);
  return outcome;
}

async function refusals(gw: TestGateway, reason: string): Promise<number> {
  return metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason });
}

/** The certificate name the gateway logged for the client that connected with `clientId` (null: none). */
async function loggedCertificateName(gw: TestGateway, clientId: string): Promise<string | null> {
  const line = await eventually(
    () => gw.logs().find((l) => l.msg === 'client connected' && l.clientId === clientId),
    (l) => l !== undefined,
    `the gateway to log the connection of ${clientId}`,
    5_000,
  );
  return typeof line?.certificateName === 'string' ? line.certificateName : null;
}

/** A refusal of `reason` was counted and logged with a detail matching `detail`. */
async function refusedWith(gw: TestGateway, reason: string, before: number, detail: RegExp): Promise<void> {
  await eventually(
    () => refusals(gw, reason),
    (n) => n === before + 1,
    `one more ${reason}`,
    5_000,
  );
  const logged = gw.logs().filter((l) => l.reason === reason && typeof l.detail === 'string');
  expect(logged.map((l) => l.detail)).toContainEqual(expect.stringMatching(detail));
}

async function honestPublish(url: string, options: IClientOptions): Promise<void> {
  const client = await connectSecure(url, options);
  if (client instanceof Error) throw client;
  try {
    await publishAcked(client, TOPIC, tap());
  } finally {
    await client.endAsync();
  }
}

describe.each(['mqtts', 'wss'] as const)('MQTT over %s', (scheme) => {
  it('lets an honest device with a valid certificate publish, and gives its certificate name', async () => {
    const clientId = `kiosk-${scheme}-cert`;
    const client = await connectSecure(urlsOf(strict)[scheme], { ...(await tlsOptions({ certificate: certs.client })), clientId });
    if (client instanceof Error) throw client;
    try {
      await publishAcked(client, TOPIC, tap());
      expect(await loggedCertificateName(strict, clientId)).toBe(certs.clientName);
      const transport = scheme === 'mqtts' ? 'tls' : 'wss';
      expect(await metricValue(strict.httpUrl, 'storeloop_mqtt_clients', { transport })).toBeGreaterThanOrEqual(1);
    } finally {
      await client.endAsync();
    }
  });

  it('lets a client without a certificate log in with its secret when certificates are optional; it has no certificate name', async () => {
    const clientId = `kiosk-${scheme}-secret`;
    await honestPublish(urlsOf(lenient)[scheme], { ...(await tlsOptions()), ...lenient.operator, clientId });
    expect(await loggedCertificateName(lenient, clientId)).toBeNull();
    expect(await connectSecure(urlsOf(lenient)[scheme], await tlsOptions())).toMatchObject({ code: 5 }); // no certificate, no secret
  });

  it("lets a certificate stand only for the identity it names, never beside another identity's secret", async () => {
    const before = await refusals(strict, 'bad_credentials');
    const outcome = await connectSecure(urlsOf(strict)[scheme], { ...(await tlsOptions({ certificate: certs.client })), ...strict.operator });
    expect(outcome).toMatchObject({ code: 4 });
    expect(await refusals(strict, 'bad_credentials')).toBe(before + 1);
  });

  it.each([
    ['no certificate', undefined, /no client certificate/],
    ['a certificate from an untrusted CA', 'untrustedClient', /unknown ca/],
    ['an expired certificate', 'expiredClient', /certificate has expired/],
  ] as const)('refuses %s when certificates are required, and counts it', async (_what, which, detail) => {
    const before = await refusals(strict, 'client_certificate_rejected');
    const outcome = await connectSecure(urlsOf(strict)[scheme], await tlsOptions({ certificate: which === undefined ? undefined : certs[which] }));
    expect(outcome).toBeInstanceOf(Error);
    await refusedWith(strict, 'client_certificate_rejected', before, detail);
  });

  it('refuses a certificate from an untrusted CA even when certificates are optional', async () => {
    const before = await refusals(lenient, 'client_certificate_rejected');
    expect(await connectSecure(urlsOf(lenient)[scheme], await tlsOptions({ certificate: certs.untrustedClient }))).toBeInstanceOf(Error);
    await refusedWith(lenient, 'client_certificate_rejected', before, /unknown ca/);
  });

  it('fails for a client that does not trust the CA of the gateway certificate, and counts the failed handshake', async () => {
    const before = await refusals(strict, 'tls_handshake_failed');
    const outcome = await connectSecure(urlsOf(strict)[scheme], await tlsOptions({ certificate: certs.client, ca: certs.otherCa.certFile }));
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error & { code?: string }).code).toMatch(/CERT|SIGNATURE|ISSUER/);
    await refusedWith(strict, 'tls_handshake_failed', before, /closed the connection during the handshake/);
  });
});

describe('the TLS port', () => {
  it('refuses plaintext MQTT bytes, counts it, and keeps serving', async () => {
    const before = await refusals(strict, 'tls_handshake_failed');
    const port = Number(new URL(urlsOf(strict).mqtts).port);
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.on('error', () => undefined); // a reset is one of the answers under test
    await once(socket, 'connect');
    const closed = once(socket, 'close');
    socket.write(encodeConnect({ clientId: 'plaintext-on-tls', keepaliveSeconds: 60 }));
    socket.resume();
    await closed;
    await refusedWith(strict, 'tls_handshake_failed', before, /wrong version number: not TLS/);
    await honestPublish(urlsOf(strict).mqtts, { ...(await tlsOptions({ certificate: certs.client })), clientId: 'kiosk-after-plaintext' });
  });

  it('closes a connection that never starts its handshake within connectTimeoutMs', async () => {
    const before = await refusals(strict, 'tls_handshake_timeout');
    const socket = connectTcp({ host: '127.0.0.1', port: Number(new URL(urlsOf(strict).mqtts).port) });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    await once(socket, 'close');
    await eventually(
      () => refusals(strict, 'tls_handshake_timeout'),
      (n) => n === before + 1,
      'the handshake timeout to be counted',
      5_000,
    );
  });

  it('uses a renewed certificate for new connections without a restart, when its files change', async () => {
    const serialOf = async (): Promise<string> => {
      const socket = connectTls({
        host: '127.0.0.1',
        port: Number(new URL(urlsOf(strict).mqtts).port),
        ca: await readFile(certs.ca.certFile),
        servername: 'localhost',
      });
      socket.on('error', () => undefined);
      await once(socket, 'secureConnect');
      const certificate: PeerCertificate = socket.getPeerCertificate();
      socket.destroy();
      return certificate.serialNumber;
    };
    const spareSerial = await readSerial(certs.spareServer.certFile);
    const before = await serialOf();
    expect(before).not.toBe(spareSerial);
    const held = await connectSecure(urlsOf(strict).mqtts, await tlsOptions({ certificate: certs.client }));
    if (held instanceof Error) throw held;
    try {
      // key first, then certificate, as an installer copying files would: a half-written pair is kept out
      await copyFile(certs.spareServer.keyFile, serverFiles.keyFile);
      await copyFile(certs.spareServer.certFile, serverFiles.certFile);
      await eventually(serialOf, (serial) => serial === spareSerial, 'new connections to get the renewed certificate', 10_000);
      expect(held.connected).toBe(true); // a connection open across the renewal keeps going
      await publishAcked(held, TOPIC, tap());
    } finally {
      await held.endAsync();
    }
    expect(strict.gateway.reloadTls()).toBe(false); // nothing changed since the watcher's reload
  });
});

/** The serial number of a PEM certificate as Node prints it (hex, upper case). */
async function readSerial(certFile: string): Promise<string> {
  return new X509Certificate(await readFile(certFile)).serialNumber;
}

describe('an edge agent over MQTT over TLS', () => {
  it("reaches the gateway with the store's CA and its agent login, and its status is stored", async () => {
    const login = lenient.addIdentity({ role: 'agent', stores: [DEMO_STORE_ID], source: 'edge-1' });
    const agent = await startTestAgent({
      gatewayUrl: urlsOf(lenient).mqtts,
      config: { gateway: { username: login.username, password: login.password, caFile: certs.ca.certFile } },
    });
    try {
      await eventually(
        async () => (await influxd.query(lenient.database, `SELECT "queue_depth" FROM agent WHERE "agent"='edge-1'`))[0]?.values.length ?? 0,
        (n) => n >= 1,
        "the agent's status in InfluxDB, through TLS",
      );
      expect(await metricValue(lenient.httpUrl, 'storeloop_mqtt_clients', { transport: 'tls' })).toBeGreaterThanOrEqual(1);
    } finally {
      await agent.stop();
    }
  });
});
