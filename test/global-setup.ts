/**
 * Runs once before the suite: finds influxd, installing Debian's package when root and missing (as the
 * demo does), else fails with exactly what to install.
 */
import { ensureInfluxd } from '../cli/ensure-influxd.js';

export default function setup(): void {
  ensureInfluxd((line) => process.stderr.write(`${line}\n`));
}
