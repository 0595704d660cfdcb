/**
 * Finds the system programs storeloop runs (influxd for the demo and tests, mosquitto for tests and the
 * benchmark), installing Debian's package when one is missing and this process may (root with
 * apt-get); otherwise says exactly what to do.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';

import { findInfluxd } from './local-influxd.js';

export const INFLUXD_MISSING_HELP = [
  'influxd (InfluxDB 1.x) is not installed. Either:',
  '  - on Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y influxdb',
  '  - or point the demo at an InfluxDB you already run:',
  '      STORELOOP_INFLUX_URL=http://host:8086 npm run demo            (1.x: /write?db=storeloop)',
  '      STORELOOP_INFLUX_API=v2 STORELOOP_INFLUX_URL=… STORELOOP_INFLUX_ORG=… STORELOOP_INFLUX_BUCKET=… STORELOOP_INFLUX_TOKEN=… npm run demo',
].join('\n');

/** Finds an executable on PATH or in /usr/bin, /usr/sbin. */
export function findProgram(name: string, pathEnv = process.env['PATH'] ?? ''): string | undefined {
  const dirs = [...pathEnv.split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), fsConstants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Installs Debian packages when running as root with apt-get; false when this process may not. */
function aptInstall(packages: string[], log: (line: string) => void): boolean {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !findProgram('apt-get')) return false;
  log(`installing Debian package(s) ${packages.join(' ')} (apt-get update && apt-get install -y ${packages.join(' ')})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...packages],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${String(result.status)})`);
  }
  return true;
}

/** The path of `program`, installing `debianPackage` first when it is missing and we may. */
export function ensureProgram(program: string, debianPackage: string, log: (line: string) => void, help?: string): string {
  const found = program === 'influxd' ? findInfluxd() : findProgram(program);
  if (found) return found;
  const missing = help ?? `${program} is not installed; on Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y ${debianPackage}`;
  if (!aptInstall([debianPackage], log)) throw new Error(missing);
  const installed = program === 'influxd' ? findInfluxd() : findProgram(program);
  if (!installed) throw new Error(`${debianPackage} was installed but ${program} is still not found.\n${missing}`);
  return installed;
}

/** influxd for the demo and the tests. Debian's package may start a system influxd on :8086; storeloop runs its own on a free port. */
export function ensureInfluxd(log: (line: string) => void): string {
  return ensureProgram('influxd', 'influxdb', log, INFLUXD_MISSING_HELP);
}

/** Installs the Debian packages that are not installed yet (dpkg -s), when root with apt-get; else says which. */
export function ensureDebianPackages(packages: string[], log: (line: string) => void): void {
  if (!findProgram('dpkg')) return; // not Debian: the programs are looked up where they are used
  const missing = packages.filter((pkg) => spawnSync('dpkg', ['-s', pkg], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  if (!aptInstall(missing, log)) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; install them with: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
  }
}
