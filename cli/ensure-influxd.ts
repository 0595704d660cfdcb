/**
 * Finds `influxd` for the demo, installing Debian's `influxdb` package when it is missing and this
 * process may (root with apt-get); otherwise says exactly what to do.
 */
import { spawnSync } from 'node:child_process';

import { findInfluxd } from './local-influxd.js';

export const INFLUXD_MISSING_HELP = [
  'influxd (InfluxDB 1.x) is not installed. Either:',
  '  - on Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y influxdb',
  '  - or point the demo at an InfluxDB you already run:',
  '      STORELOOP_INFLUX_URL=http://host:8086 npm run demo            (1.x: /write?db=storeloop)',
  '      STORELOOP_INFLUX_API=v2 STORELOOP_INFLUX_URL=… STORELOOP_INFLUX_ORG=… STORELOOP_INFLUX_BUCKET=… STORELOOP_INFLUX_TOKEN=… npm run demo',
].join('\n');

export function ensureInfluxd(log: (line: string) => void): string {
  const found = findInfluxd();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) throw new Error(INFLUXD_MISSING_HELP);
  log('influxd is missing: installing Debian\'s influxdb package (apt-get update && apt-get install -y influxdb)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'influxdb']]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${String(result.status)}).\n${INFLUXD_MISSING_HELP}`);
  }
  const installed = findInfluxd();
  if (!installed) throw new Error(`influxdb was installed but influxd is still not found.\n${INFLUXD_MISSING_HELP}`);
  // Debian's package starts a system influxd on :8086; the demo runs its own instance on a free port
  return installed;
}
