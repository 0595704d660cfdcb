/** `storeloop config check FILE`: validates a config file through the same code path as the gateway. */
import { ConfigError, configWarnings, loadConfig, type Config } from '../../config/index.js';
import { readTlsCredentials, TlsFileError } from '../../gateway/broker/tls-listeners.js';

/** The TLS line of the summary, once the certificate files were read and OpenSSL took them. */
function tlsSummary(tls: Config['mqtt']['tls']): string {
  if (tls === undefined) return '';
  readTlsCredentials(tls);
  return `\n  mqtt tls: ${tls.host}:${tls.port} (wss ${tls.wsPort ?? 'off'}), client certificates ${tls.clientCertificates}`;
}

export function runConfigCheck(file: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  try {
    const config = loadConfig(file);
    const summary = config.stores.map(
      (s) =>
        `${s.id}: ${s.zones.length} zones, ${s.sensors.length} sensors, ${s.touchpoints.length} touchpoints, ${s.devices.length} devices, ${s.agents.length} agents`,
    );
    out.write(
      `${file}: OK\n  influx: ${config.influx.api} ${config.influx.url}\n  mqtt: ${config.mqtt.host}:${config.mqtt.port} (ws ${config.mqtt.wsPort ?? 'off'}), http ${config.http.host}:${config.http.port}${tlsSummary(config.mqtt.tls)}\n  ${summary.join('\n  ')}\n`,
    );
    for (const warning of configWarnings(config)) err.write(`${file}: warning: ${warning}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof TlsFileError) {
      err.write(`${e instanceof TlsFileError ? `${file}: ` : ''}${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
