/** `storeloop edge --config edge.yaml`: runs the store's edge agent until SIGINT/SIGTERM; `--check` only validates the file. */
import { EdgeAgent } from '../../edge/agent/agent.js';
import { createEdgeLogger } from '../../edge/agent/edge-logger.js';
import { EdgeConfigError } from '../../edge/agent/errors.js';
import { loadEdgeConfig } from '../../edge/agent/load-config.js';
import { createConfiguredPseudonymiser, createSources } from '../../edge/agent/sources.js';
import { waitForSignal } from './gateway-command.js';

export interface EdgeCommandOptions {
  config: string;
  check?: boolean;
}

export async function runEdgeCommand(options: EdgeCommandOptions): Promise<void> {
  if (options.check === true) {
    process.exitCode = runEdgeCheck(options.config);
    return;
  }
  const config = loadEdgeConfig(options.config);
  const log = createEdgeLogger(config.log.level);
  const agent = new EdgeAgent(config, { log });
  await agent.start();
  log.info({ config: options.config, agent: config.agent.id, store: config.agent.storeId, ingress: agent.ingressUrl }, 'storeloop edge agent ready');
  await waitForSignal(log, () => agent.stop());
}

/** Validates the file (schema, env overrides, secret file, every source block) and prints a summary; 0 or 1. */
export function runEdgeCheck(file: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  try {
    const config = loadEdgeConfig(file);
    const log = createEdgeLogger('silent');
    const p = config.pseudonymise;
    const sources = createSources(config, { log, pseudonymiser: createConfiguredPseudonymiser(config) });
    const ingress = config.sources.ingress;
    out.write(
      [
        `${file}: OK`,
        `  agent: ${config.agent.id} in store ${config.agent.storeId}`,
        `  gateway: ${config.gateway.url.replace(/\/\/[^@/]*@/, '//')} (prefix ${config.gateway.topicPrefix})`,
        `  queue: ${config.queue.dir}, ${config.queue.quotaBytes} bytes, max age ${config.queue.maxAgeSeconds} s, raw shed above ${config.queue.shedRawAbovePct} %`,
        `  pseudonymise: ${p === undefined ? 'none' : p.mode}`,
        `  sources: ${[...sources.map((s) => s.source.name), ...(ingress ? [`ingress ${ingress.host}:${ingress.port}`] : [])].join(', ') || 'none'}`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (e) {
    if (e instanceof EdgeConfigError) {
      err.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
