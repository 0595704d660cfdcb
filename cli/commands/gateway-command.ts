/** `storeloop gateway`: runs the gateway until SIGINT/SIGTERM, then stops within a bounded time. */
import { loadConfig } from '../../config/index.js';
import { Gateway } from '../../gateway/gateway.js';
import { limitHeapGrowth } from '../../lib/heap-growth.js';
import { createLogger } from '../../lib/logger.js';

export const STOP_TIMEOUT_MS = 15_000;

export async function runGatewayCommand(options: { config?: string }): Promise<void> {
  // before the gateway allocates: its RSS stays near its live heap (lib/heap-growth.ts, docs/configuration.md)
  limitHeapGrowth();
  const config = loadConfig(options.config);
  const log = createLogger(config.log.level);
  const gateway = new Gateway(config, { log });
  await gateway.start();
  const urls = gateway.urls();
  log.info({ ...urls, config: options.config ?? 'built-in demo store' }, 'storeloop gateway ready');
  // SIGHUP: read the MQTT TLS certificate files again (they are also watched); without mqtt.tls it does nothing
  const onHangup = () => {
    gateway.reloadTls();
  };
  process.on('SIGHUP', onHangup);
  await waitForSignal(log, () => gateway.stop());
  process.off('SIGHUP', onHangup);
}

/** Resolves after the first SIGINT/SIGTERM once `stop` finished; a second signal or the timeout exits hard. */
export function waitForSignal(log: { info: (o: object, m: string) => void; error: (o: object, m: string) => void }, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.error({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      const timer = setTimeout(() => {
        log.error({ timeoutMs: STOP_TIMEOUT_MS }, 'stop timed out: exiting');
        process.exit(1);
      }, STOP_TIMEOUT_MS);
      timer.unref();
      stop().then(
        () => {
          clearTimeout(timer);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        },
        (err: unknown) => {
          log.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
