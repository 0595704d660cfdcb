/**
 * Runs once before the integration tests: finds the system parts they use, installing Debian's
 * packages when root and missing (as the demo does), else failing with exactly what to install:
 * influxd, a third-party MQTT client (mosquitto_pub), a private D-Bus with BlueZ's mock (edge BLE
 * tests), tshark (edge probe-request tests) and Chromium (the live page's browser test). Then it builds the sources, the one build of the run
 * (test/helpers/test-build.ts), and removes it after the last test.
 */
import type { TestProject } from 'vitest/node';

import { ensureDebianPackages, ensureInfluxd, ensureProgram } from '../devtools/ensure-program.js';
import { buildForTests } from './helpers/test-build.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  ensureInfluxd(log);
  ensureProgram('mosquitto_pub', 'mosquitto-clients', log);
  ensureDebianPackages(['dbus', 'python3-dbusmock', 'libglib2.0-bin', 'tshark'], log);
  ensureProgram('chromium', 'chromium', log);
  const { build, remove } = await buildForTests();
  project.provide('testBuildRoot', build.root);
  return remove;
}
