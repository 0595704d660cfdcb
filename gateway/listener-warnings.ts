/** What the gateway warns about its listeners at start: plaintext beyond loopback, anonymous MQTT. */
import type { Config } from '../config/index.js';

/** True for addresses only this machine reaches. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** One warning (pino context and message) per risky listener setting of the config. */
export function listenerWarnings(config: Pick<Config, 'mqtt' | 'http'>): Array<{ context: Record<string, string>; message: string }> {
  const { mqtt, http } = config;
  const out: Array<{ context: Record<string, string>; message: string }> = [];
  if (!isLoopback(mqtt.host)) {
    out.push({
      context: { listener: 'MQTT', host: mqtt.host },
      message: `plaintext MQTT listens beyond loopback on ${mqtt.host}: device secrets and traffic cross the network unencrypted; give devices beyond this host mqtt.tls instead (docs/security.md)`,
    });
  }
  if (mqtt.auth.anonymous) {
    out.push({
      context: { listener: 'MQTT' },
      message: 'mqtt.auth.anonymous is on: clients without credentials may publish data of every store (for trying storeloop out, never in a store)',
    });
  }
  if (!isLoopback(http.host)) {
    out.push({
      context: { listener: 'HTTP API', host: http.host },
      message: `HTTP API listens beyond loopback (${http.host}) over plain HTTP: tokens and session cookies cross the network unencrypted unless a TLS proxy is in front (docs/security.md)`,
    });
  }
  return out;
}
