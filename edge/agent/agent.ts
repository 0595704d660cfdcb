/**
 * The edge agent's composition root (zigbee2mqtt's controller shape): the constructor stores the
 * config; start() opens the queue, checks the clock, starts the ingress, the sources and the
 * publisher; stop() undoes it in reverse: sources and ingress first (no new messages), then the
 * publisher (outstanding PUBACKs, retained `offline`, disconnect), then the queue (flushed, closed).
 *
 * Every message, from a source or the ingress, goes through `accept()` into the on-disk queue; the
 * publisher drains the queue. Remote config arrives through the publisher and is applied here.
 */
import { StoreloopError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { STORELOOP_VERSION } from '../../lib/version.js';
import { EdgeQueue, type EnqueueResult, type QueueMessage } from '../queue/edge-queue.js';
import { IngressServer } from '../ingress/ingress-server.js';
import type { SourcePayload } from '../types.js';
import { ClockMonitor, type TimedatectlProbe } from './clock-monitor.js';
import type { EdgeConfig } from './config-schema.js';
import { EdgeStartError } from './errors.js';
import { Publisher } from './publisher.js';
import { baseSettings, resolveRemoteConfig, type ReconfigurableSourceName, type RuntimeSettings } from './remote-config.js';
import { SourceRunner } from './source-runner.js';
import { createConfiguredPseudonymiser, createSources, isReconfigurable, type ConfiguredSource } from './sources.js';
import { buildStatus, type AgentStatus, type RemoteConfigState } from './status-report.js';

/** How long start() waits for the sources before it goes on (they keep starting in the background). */
const SOURCE_START_WAIT_MS = 15_000;

export interface EdgeAgentDeps {
  log: Logger;
  /** Sources to run instead of the ones the config enables. */
  sources?: ConfiguredSource[];
  /** Clock (epoch ms) for event times of bodies without `ts`, record ages and the status. */
  now?: () => number;
  /** How the clock check asks timedatectl (tests pass their own). */
  clockProbe?: TimedatectlProbe;
}

export class EdgeAgent {
  private log: Logger;
  private readonly now: () => number;
  private readonly base: RuntimeSettings;
  private settings: RuntimeSettings;
  private remoteState: RemoteConfigState = { state: 'none' };
  private lastRemotePayload: Buffer | null = null;
  private startedAt = 0;
  private queue: EdgeQueue | null = null;
  private clock: ClockMonitor | null = null;
  private ingress: IngressServer | null = null;
  private publisher: Publisher | null = null;
  private runners: Array<{ block: ReconfigurableSourceName; runner: SourceRunner }> = [];
  private statusTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  /** Stores the config; start() does the work. */
  constructor(
    private readonly config: EdgeConfig,
    private readonly deps: EdgeAgentDeps,
  ) {
    this.log = deps.log;
    this.now = deps.now ?? Date.now;
    this.base = baseSettings(config);
    this.settings = this.base;
  }

  /** Opens the queue, then starts the ingress, the publisher and the sources; on failure undoes what it started. */
  async start(): Promise<void> {
    const { config } = this;
    this.log = this.deps.log.child({ module: 'edge-agent', agent: config.agent.id });
    this.startedAt = this.now();
    // sources are built first: a bad source block stops the start before anything is opened
    const configured =
      this.deps.sources ?? createSources(config, { log: this.deps.log, pseudonymiser: createConfiguredPseudonymiser(config), now: this.deps.now });
    try {
      await this.startParts(configured);
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err instanceof StoreloopError
        ? err
        : new EdgeStartError(`edge agent could not start: ${(err as Error).message}`, { cause: err, context: { agent: config.agent.id } });
    }
    this.log.info(
      {
        version: STORELOOP_VERSION,
        gateway: config.gateway.url.replace(/\/\/[^@/]*@/, '//'),
        sources: this.runners.map(({ runner }) => runner.source.name),
        ingress: this.ingress?.url ?? null,
        queueDepth: this.queue?.stats().depth ?? 0,
      },
      'edge agent started',
    );
  }

  private async startParts(configured: ConfiguredSource[]): Promise<void> {
    const { config } = this;
    const queue = new EdgeQueue({
      dir: config.queue.dir,
      quotaBytes: config.queue.quotaBytes,
      segmentBytes: config.queue.segmentBytes,
      shedRawAbovePct: this.settings.shedRawAbovePct,
      maxAgeSeconds: this.settings.maxAgeSeconds,
      agentId: config.agent.id,
      storeId: config.agent.storeId,
      topicPrefix: config.gateway.topicPrefix,
      log: this.deps.log,
      now: this.now,
    });
    await queue.open();
    this.queue = queue;

    this.clock = new ClockMonitor(config.status.clockCheck, this.deps.log, this.now, this.deps.clockProbe);
    await this.clock.refresh();

    if (config.sources.ingress !== undefined) {
      const ingress = new IngressServer({
        config: config.sources.ingress,
        enqueue: (message) => this.accept(message),
        status: () => this.localStatus(),
        sourceIds: () => this.settings.ingressSourceIds,
        log: this.deps.log,
        now: this.now,
      });
      this.ingress = ingress;
      await ingress.start();
    }

    const emit = (message: SourcePayload) => void this.accept(message);
    this.runners = configured.map(({ block, source }) => ({ block, runner: new SourceRunner(source, emit, this.deps.log) }));

    // the publisher runs before the sources start: a source that takes long to start delays nothing
    this.publisher = new Publisher({
      link: config.gateway,
      agentId: config.agent.id,
      storeId: config.agent.storeId,
      queue,
      log: this.deps.log,
      status: () => this.status(),
      onConfig: config.remoteConfig.enabled ? (payload) => this.onRemoteConfig(payload) : null,
    });
    this.publisher.start();
    this.scheduleStatus();

    const started = Promise.all(this.runners.map(({ runner }) => runner.start()));
    const late = await Promise.race([started.then(() => false), sleep(SOURCE_START_WAIT_MS).then(() => true)]);
    if (late)
      this.log.warn(
        { starting: this.runners.filter(({ runner }) => !runner.running).map(({ runner }) => runner.source.name) },
        'sources still starting: going on without waiting',
      );
  }

  /** Queues one message (from a source or the ingress); resolves once it is fsynced, or with why it was shed. */
  accept(message: QueueMessage): Promise<EnqueueResult> {
    if (this.queue === null) return Promise.resolve({ status: 'shed', reason: 'write_failed' });
    this.clock?.noteEvent();
    return this.queue.enqueue(message);
  }

  /** The status the agent publishes now. */
  status(): AgentStatus {
    const queue = this.queue;
    if (queue === null) return { ts: this.now(), state: 'offline' };
    return buildStatus({
      version: STORELOOP_VERSION,
      startedAt: this.startedAt,
      now: this.now(),
      queue: queue.stats(),
      shedRawAbovePct: this.settings.shedRawAbovePct,
      sources: this.runners.map(({ runner }) => runner.health()),
      clock: { synced: this.clock?.synced ?? false, eventsBeforeSync: this.clock?.eventsBeforeSync ?? 0 },
      remoteConfig: this.remoteState,
    });
  }

  /** Everything a person looking after the box wants (GET /v1/status on the ingress). */
  localStatus(): Record<string, unknown> {
    return {
      agent: { id: this.config.agent.id, storeId: this.config.agent.storeId },
      status: this.status(),
      queue: this.queue?.stats() ?? null,
      queueEpoch: this.queue?.queueEpoch ?? null,
      publisher: this.publisher?.stats() ?? null,
      ingress: this.ingress?.counts() ?? null,
      clock: this.clock === null ? null : { ...this.clock.current, eventsBeforeSync: this.clock.eventsBeforeSync },
      remoteConfig: this.remoteState,
      settings: this.settings,
    };
  }

  /** The ingress URL (its real port when the config said 0). */
  get ingressUrl(): string | null {
    return this.ingress?.url ?? null;
  }

  get connected(): boolean {
    return this.publisher?.connected ?? false;
  }

  async stop(): Promise<void> {
    if (this.statusTimer !== null) clearInterval(this.statusTimer);
    this.statusTimer = null;
    await this.ticking;
    for (const { runner } of [...this.runners].reverse()) await runner.stop();
    await this.ingress?.stop();
    await this.publisher?.stop();
    await this.queue?.close();
    this.log.info({}, 'edge agent stopped');
  }

  private scheduleStatus(): void {
    if (this.statusTimer !== null) clearInterval(this.statusTimer);
    this.statusTimer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = null));
    }, this.settings.statusIntervalS * 1000);
  }

  private async tick(): Promise<void> {
    await this.clock?.refresh();
    this.publisher?.publishStatus();
  }

  /** A retained config arrived (again on every reconnect: an unchanged one is ignored). */
  private onRemoteConfig(payload: Buffer): void {
    if (this.lastRemotePayload !== null && this.lastRemotePayload.equals(payload)) return;
    this.lastRemotePayload = Buffer.from(payload);
    const result = resolveRemoteConfig(payload, this.base, (name, block) => this.checkSourceBlock(name, block));
    if (!result.ok) {
      this.remoteState = { state: 'refused', rev: result.rev, detail: result.detail.slice(0, 160) };
      this.log.warn({ rev: result.rev, detail: result.detail }, 'remote config refused: keeping the current settings');
    } else {
      this.apply(result.settings);
      this.remoteState = result.rev === null && payload.length === 0 ? { state: 'none' } : { state: 'applied', rev: result.rev };
      this.log.info(
        { rev: result.rev, settings: { ...result.settings, ingressSourceIds: result.settings.ingressSourceIds?.length ?? null } },
        'remote config applied',
      );
    }
    this.publisher?.publishStatus();
  }

  private checkSourceBlock(name: ReconfigurableSourceName, block: Record<string, unknown>): string | undefined {
    const targets = this.runners.filter((r) => r.block === name);
    if (targets.length === 0) return `sources.${name}: this agent does not run that source`;
    for (const { runner } of targets) {
      if (!isReconfigurable(runner.source)) return `sources.${name}: this source cannot change at runtime (change the file and restart)`;
      const problem = runner.source.checkReconfigure(this.mergedBlock(name, block));
      if (problem !== undefined) return `sources.${name}.${problem}`;
    }
    return undefined;
  }

  private mergedBlock(name: ReconfigurableSourceName, remote: Record<string, unknown> | undefined): Record<string, unknown> {
    const { enabled: _enabled, ...file } = this.config.sources[name] ?? {};
    return { ...file, ...(remote ?? {}) };
  }

  private apply(next: RuntimeSettings): void {
    const previous = this.settings;
    this.settings = next;
    this.queue?.setPolicy({ shedRawAbovePct: next.shedRawAbovePct, maxAgeSeconds: next.maxAgeSeconds });
    this.publisher?.setLimits({ inflightWindow: next.inflightWindow, replayRatePerS: next.replayRatePerS });
    if (next.statusIntervalS !== previous.statusIntervalS && this.statusTimer !== null) this.scheduleStatus();
    for (const { block, runner } of this.runners) {
      // a source whose block came and went goes back to the file's block
      if (next.sources[block] === undefined && previous.sources[block] === undefined) continue;
      if (isReconfigurable(runner.source)) runner.source.reconfigure(this.mergedBlock(block, next.sources[block]));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
