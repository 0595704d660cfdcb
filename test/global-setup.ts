/**
 * Runs once before the suite: finds the system parts the tests use, installing Debian's packages when
 * root and missing (as the demo does), else failing with exactly what to install: influxd, a
 * third-party MQTT client (mosquitto_pub), a private D-Bus with BlueZ's mock (edge BLE tests) and
 * tshark (edge probe-request tests).
 */
import { ensureDebianPackages, ensureInfluxd, ensureProgram } from '../devtools/ensure-program.js';

export default function setup(): void {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  ensureInfluxd(log);
  ensureProgram('mosquitto_pub', 'mosquitto-clients', log);
  ensureDebianPackages(['dbus', 'python3-dbusmock', 'libglib2.0-bin', 'tshark'], log);
}
