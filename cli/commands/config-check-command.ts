/** `storeloop config check FILE`: validates a config file through the same code path as the gateway. */
import { ConfigError, loadConfig } from '../../config/index.js';

export function runConfigCheck(file: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  try {
    const config = loadConfig(file);
    const summary = config.stores.map(
      (s) =>
        `${s.id}: ${s.zones.length} zones, ${s.sensors.length} sensors, ${s.touchpoints.length} touchpoints, ${s.devices.length} devices, ${s.agents.length} agents`,
    );
    out.write(
      `${file}: OK\n  influx: ${config.influx.api} ${config.influx.url}\n  mqtt: ${config.mqtt.host}:${config.mqtt.port} (ws ${config.mqtt.wsPort ?? 'off'}), http ${config.http.host}:${config.http.port}\n  ${summary.join('\n  ')}\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
