/**
 * Runs once before the suite: finds influxd and mosquitto_pub (a third-party MQTT client), installing
 * Debian's packages when root and missing, as the demo does, else failing with what to install.
 */
import { ensureInfluxd, ensureProgram } from '../cli/ensure-influxd.js';

export default function setup(): void {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  ensureInfluxd(log);
  ensureProgram('mosquitto_pub', 'mosquitto-clients', log);
}
