/**
 * The edge agent in-process for tests: a config built from the demo store's ids (agent `edge-1` in
 * `demo-store`), a fresh queue dir unless the test brings one, the ingress on a free loopback port,
 * and its log captured in memory (parsed JSON lines).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { DEMO_STORE_ID } from '../../config/index.js';
import { EdgeAgent, type EdgeAgentDeps } from '../../edge/agent/agent.js';
import type { EdgeConfig } from '../../edge/agent/config-schema.js';
import { createEdgeLogger } from '../../edge/agent/edge-logger.js';
import { parseEdgeConfig } from '../../edge/agent/load-config.js';

export interface TestAgent {
  agent: EdgeAgent;
  config: EdgeConfig;
  queueDir: string;
  ingressUrl: string;
  logs(): Array<Record<string, unknown>>;
  /** Every log line as written, for leak scans. */
  logText(): string;
  stop(): Promise<void>;
}

/** A raw edge config for the demo store, merged one level deep with `overrides`. */
export function demoEdgeConfig(gatewayUrl: string, queueDir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, Record<string, unknown>> = {
    agent: { id: 'edge-1', storeId: DEMO_STORE_ID },
    gateway: { url: gatewayUrl, reconnectMinMs: 100, reconnectMaxMs: 500, connectTimeoutMs: 2000, keepaliveS: 10 },
    queue: { dir: queueDir },
    sources: { ingress: { host: '127.0.0.1', port: 0 } },
    status: { intervalS: 5, clockCheck: 'year' },
    log: { level: 'debug' },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = base[key];
    merged[key] = current !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...current, ...value } : value;
  }
  return merged;
}

export async function startTestAgent(options: {
  gatewayUrl: string;
  queueDir?: string;
  config?: Record<string, unknown>;
  deps?: Omit<EdgeAgentDeps, 'log'>;
}): Promise<TestAgent> {
  const ownDir = options.queueDir === undefined ? await mkdtemp(join(tmpdir(), 'storeloop-edge-')) : undefined;
  const queueDir = options.queueDir ?? join(ownDir as string, 'queue');
  const config = parseEdgeConfig(demoEdgeConfig(options.gatewayUrl, queueDir, options.config));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const agent = new EdgeAgent(config, { log: createEdgeLogger('debug', sink), ...options.deps });
  await agent.start();
  let stopped: Promise<void> | undefined;
  return {
    agent,
    config,
    queueDir,
    ingressUrl: agent.ingressUrl ?? '',
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    logText: () => lines.join('\n'),
    stop: () => (stopped ??= agent.stop().finally(() => (ownDir === undefined ? undefined : rm(ownDir, { recursive: true, force: true })))),
  };
}

export { eventually } from './lifecycle.js';
