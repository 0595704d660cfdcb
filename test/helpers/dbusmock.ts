/**
 * A private D-Bus with python3-dbusmock's `bluez5` template on it: a stand-in bluetoothd for the BLE
 * source's tests. The bus is a `dbus-daemon` on a unix socket in a temp dir with a policy that allows
 * everything; point DBUS_SYSTEM_BUS_ADDRESS at it (node-ble connects through dbus-next's systemBus(),
 * which reads that variable) with `pointSystemBusAt`.
 *
 * Calls go through `gdbus call`, whose GVariant text has typed dict keys: dbus-next 0.10 cannot marshal
 * `a{qv}` (ManufacturerData) because it takes dict keys from a JS object, and dbusmock 0.28's
 * `UpdateProperties` fails on dict values, so properties are written with
 * org.freedesktop.DBus.Properties.Set (which also emits PropertiesChanged).
 *
 * Needs the Debian packages `dbus` (dbus-daemon), `python3-dbusmock` and `libglib2.0-bin` (gdbus).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PACKAGES_HINT = 'on Debian/Ubuntu: apt-get install -y dbus python3-dbusmock libglib2.0-bin';
/** dbusmock is a Debian python package: prefer the system interpreter over a pyenv/venv `python3` on PATH. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const START_TIMEOUT_MS = 15_000;

export type Bytes = Uint8Array | readonly number[];

/** org.bluez.Device1 properties a test can set; byte values as the vectors write them. */
export interface DeviceProperties {
  RSSI?: number;
  TxPower?: number;
  AddressType?: 'public' | 'random';
  /** Company id → bytes after it (a{qv}). */
  ManufacturerData?: Readonly<Record<number, Bytes>>;
  /** 128-bit UUID → bytes after the 16-bit UUID (a{sv}). */
  ServiceData?: Readonly<Record<string, Bytes>>;
}

export interface DbusMock {
  /** `unix:path=…` of the private bus. */
  readonly address: string;
  /** org.bluez.Mock.AddAdapter: a powered, not discovering adapter; returns its object path. */
  addAdapter(name: string, systemName?: string): Promise<string>;
  /** org.bluez.Mock.AddDevice, then the given properties; returns the device's object path. */
  addDevice(adapter: string, address: string, properties?: DeviceProperties): Promise<string>;
  setDeviceProperties(adapter: string, address: string, properties: DeviceProperties): Promise<void>;
  setAdapterPowered(adapter: string, powered: boolean): Promise<void>;
  /** org.bluez.Adapter1.RemoveDevice, as bluetoothd does when a temporary device times out. */
  removeDevice(adapter: string, address: string): Promise<void>;
  /** One property as GVariant text, e.g. `<true>` or `<{'Transport': <'le'>}>`. */
  getProperty(path: string, iface: string, name: string): Promise<string>;
  /** Names of the mocked methods called on an object, in call order (org.freedesktop.DBus.Mock.GetCalls; Properties.Set is not logged). */
  calls(path: string): Promise<string[]>;
  /** Ends the mock bluetoothd (as a crash would) and leaves the bus running; adapters and devices go with it. */
  stopBluez(): Promise<void>;
  /** Starts a fresh mock bluetoothd on the same bus: no adapters, no devices. */
  startBluez(): Promise<void>;
  /** Stops dbusmock and the bus, removes the temp dir; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts the bus and dbusmock; pair it with `afterAll(() => mock.stop())` or `onTestFinished`. */
export async function startDbusMock(): Promise<DbusMock> {
  checkPrerequisites();
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-dbus-'));
  const socket = join(dir, 'system_bus_socket');
  await writeFile(join(dir, 'bus.conf'), busConfig(socket));
  const output: string[] = [];
  let daemon: ChildProcess | undefined;
  let bluez: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (bluez) await terminate(bluez);
      if (daemon) await terminate(daemon);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    daemon = spawn('dbus-daemon', [`--config-file=${join(dir, 'bus.conf')}`, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const address = (await firstLine(daemon, output)).split(',')[0] ?? '';
    const startBluez = async (): Promise<void> => {
      bluez = spawn(PYTHON, ['-m', 'dbusmock', '--template', 'bluez5'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address },
      });
      collect(bluez, output);
      await gdbus(['wait', '--address', address, '--timeout', String(START_TIMEOUT_MS / 1000), 'org.bluez']).catch((err: unknown) => {
        throw new Error(`dbusmock did not take org.bluez on ${address}: ${String(err)}\n${output.join('')}`);
      });
    };
    const stopBluez = async (): Promise<void> => {
      if (bluez) await terminate(bluez);
      bluez = undefined;
    };
    await startBluez();
    return createClient(address, { stop, startBluez, stopBluez });
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Sets DBUS_SYSTEM_BUS_ADDRESS for this test process (each vitest fork has its own env); returns the undo. */
export function pointSystemBusAt(address: string): () => void {
  const previous = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  process.env.DBUS_SYSTEM_BUS_ADDRESS = address;
  return () => {
    if (previous === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = previous;
  };
}

/** `dev_AA_BB_…` under the adapter, as bluetoothd and dbusmock name device objects. */
export function devicePath(adapter: string, address: string): string {
  return `/org/bluez/${adapter}/dev_${address.replace(/:/g, '_').toUpperCase()}`;
}

interface Lifecycle {
  stop(): Promise<void>;
  startBluez(): Promise<void>;
  stopBluez(): Promise<void>;
}

function createClient(address: string, lifecycle: Lifecycle): DbusMock {
  const call = (path: string, method: string, ...args: string[]) =>
    gdbus(['call', '--address', address, '--dest', 'org.bluez', '--object-path', path, '--method', method, ...args]);
  const set = (path: string, iface: string, name: string, value: string) => call(path, 'org.freedesktop.DBus.Properties.Set', iface, name, value);
  const setDeviceProperties = async (adapter: string, deviceAddress: string, properties: DeviceProperties): Promise<void> => {
    const path = devicePath(adapter, deviceAddress);
    for (const [name, value] of Object.entries(properties) as Array<[keyof DeviceProperties, unknown]>) {
      if (value !== undefined) await set(path, 'org.bluez.Device1', name, deviceVariant(name, value));
    }
  };
  return {
    address,
    addAdapter: async (name, systemName = 'storeloop-test') => parsePath(await call('/', 'org.bluez.Mock.AddAdapter', name, systemName)),
    addDevice: async (adapter, deviceAddress, properties = {}) => {
      const path = parsePath(await call('/', 'org.bluez.Mock.AddDevice', adapter, deviceAddress, 'device'));
      await setDeviceProperties(adapter, deviceAddress, properties);
      return path;
    },
    setDeviceProperties,
    setAdapterPowered: async (adapter, powered) => {
      await set(`/org/bluez/${adapter}`, 'org.bluez.Adapter1', 'Powered', `<${powered ? 'true' : 'false'}>`);
    },
    removeDevice: async (adapter, deviceAddress) => {
      await call(`/org/bluez/${adapter}`, 'org.bluez.Adapter1.RemoveDevice', `objectpath '${devicePath(adapter, deviceAddress)}'`);
    },
    getProperty: async (path, iface, name) => (await call(path, 'org.freedesktop.DBus.Properties.Get', iface, name)).trim().replace(/^\((.*),\)$/s, '$1'),
    stopBluez: lifecycle.stopBluez,
    startBluez: lifecycle.startBluez,
    stop: lifecycle.stop,
    calls: async (path) => [...(await call(path, 'org.freedesktop.DBus.Mock.GetCalls')).matchAll(/\((?:uint64 )?\d+, '(\w+)', /g)].map((m) => m[1] ?? ''),
  };
}

/** A Device1 property as a GVariant text variant with its D-Bus type spelled out. */
function deviceVariant(name: keyof DeviceProperties, value: unknown): string {
  switch (name) {
    case 'RSSI':
    case 'TxPower':
      return `<@n ${Number(value)}>`;
    case 'AddressType':
      return `<'${String(value)}'>`;
    case 'ManufacturerData': {
      const entries = Object.entries(value as Record<string, Bytes>).map(([k, bytes]) => `${Number(k)}: <${byteArray(bytes)}>`);
      return `<@a{qv} {${entries.join(', ')}}>`;
    }
    case 'ServiceData': {
      const entries = Object.entries(value as Record<string, Bytes>).map(([uuid, bytes]) => `'${uuid}': <${byteArray(bytes)}>`);
      return `<@a{sv} {${entries.join(', ')}}>`;
    }
  }
}

function byteArray(bytes: Bytes): string {
  const list = Array.from(bytes, (b) => `0x${b.toString(16).padStart(2, '0')}`);
  return `@ay [${list.join(', ')}]`;
}

function parsePath(output: string): string {
  const match = /'([^']+)'/.exec(output);
  if (!match?.[1]) throw new Error(`expected an object path from dbusmock, got ${output}`);
  return match[1];
}

function gdbus(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('gdbus', args, { timeout: START_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`gdbus ${args.slice(0, 1).concat(args.slice(-3)).join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

function checkPrerequisites(): void {
  const missing: string[] = [];
  for (const program of ['dbus-daemon', 'gdbus']) {
    if (spawnSync('sh', ['-c', `command -v ${program}`]).status !== 0) missing.push(program);
  }
  if (spawnSync(PYTHON, ['-c', 'import dbusmock']).status !== 0) missing.push(`${PYTHON} -m dbusmock`);
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')} for the D-Bus BlueZ mock; ${PACKAGES_HINT}`);
}

/** A bus like the system bus (EXTERNAL auth on a unix socket) whose policy allows every call, name and signal. */
function busConfig(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`;
}

function collect(child: ChildProcess, into: string[]): void {
  child.stdout?.on('data', (d: Buffer) => into.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => into.push(d.toString()));
}

function firstLine(child: ChildProcess, output: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`dbus-daemon printed no address within ${START_TIMEOUT_MS} ms\n${output.join('')}`)), START_TIMEOUT_MS);
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      const nl = buffered.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buffered.slice(0, nl).trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited with ${code}\n${output.join('')}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
