/**
 * The gateway's composition root: builds the event log, the message index (kept up with the log by
 * log/message-index-upkeep.ts), the identity vault, the ingest pipeline, the sinks (InfluxDB), the
 * MQTT broker and the HTTP API from one validated config, starts them in order and stops them in
 * reverse.
 */
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';

import { configWarnings, type Config } from '../config/index.js';
import { dashboardsPlugin } from '../dashboards/index.js';
import { createAuthorizePublish } from './broker/authorize-publish.js';
import { verifiedCertificateName } from './broker/client-certificate.js';
import { MqttAuthenticator } from './broker/mqtt-authenticator.js';
import { MqttBroker, WS_PATH, type MqttBrokerOptions } from './broker/mqtt-broker.js';
import { MqttIdentityStore } from './auth/mqtt-identities.js';
import { secretKeyPath } from './auth/secrets.js';
import { createBrokerPersistence } from './broker/persistence/index.js';
import { buildHttpServer } from './http/http-server.js';
import { IngestPipeline } from './ingest/ingest-pipeline.js';
import { maskClientId } from './ingest/redact.js';
import { RejectionLog } from './ingest/rejection.js';
import { StoreDirectory } from './ingest/store-directory.js';
import { InfluxQuery } from './influx/influx-query.js';
import { InfluxWriter } from './influx/influx-writer.js';
import type { HistoryStatus } from './live/history-status.js';
import { LiveState } from './live/live-state.js';
import { ConsentRegistry } from './consent/consent-registry.js';
import { listenerWarnings } from './listener-warnings.js';
import { ConsentSink } from './consent/consent-sink.js';
import { CustomerErasure } from './consent/customer-erasure.js';
import { CrmForwarding } from './crm/crm-forwarding.js';
import { CustomerTokenVault } from './identity/customer-tokens.js';
import { ApiTokenStore } from './auth/api-tokens.js';
import { Ledger } from './ingest/ledger.js';
import { EventLog } from './log/event-log.js';
import { registerLogMetrics } from './log/log-metrics.js';
import { MessageIndex } from './log/message-index.js';
import { MessageIndexUpkeep } from './log/message-index-upkeep.js';
import { DeadLetterStore } from './sinks/dead-letters.js';
import { experienceSinkFor } from './experience/experience-setup.js';
import { BatchEncoder } from './sinks/influx/batch-encoder.js';
import { InfluxSink } from './sinks/influx/influx-sink.js';
import { drainLegacySpool } from './sinks/influx/legacy-spool.js';
import type { Sink } from './sinks/sink.js';
import { DEFAULT_SINK_RUNNER_OPTIONS, type SinkRunnerOptions } from './sinks/sink-runner.js';
import { SinkSet } from './sinks/sink-set.js';
import type { Logger } from '../lib/logger.js';
import { RateLimitedLog } from '../lib/rate-limited-log.js';
import { GatewayMetrics } from './metrics.js';
import { STORELOOP_VERSION } from '../lib/version.js';

export interface GatewayUrls {
  mqtt: string;
  ws: string | null;
  /** MQTT over TLS, when mqtt.tls is set. */
  mqtts: string | null;
  /** MQTT over secure WebSocket, when mqtt.tls is set and its wsPort is not null. */
  wss: string | null;
  http: string;
  docs: string;
  metrics: string;
  live: string;
}

export interface GatewayOptions {
  log: Logger;
  metrics?: GatewayMetrics;
  /** Sinks attached beside InfluxDB (the experience engine and CRM forwarders plug in here). */
  extraSinks?: Array<{ sink: Sink; options?: Partial<SinkRunnerOptions> }>;
  /** The clock persistent MQTT sessions expire by (default the wall clock); tests move it. */
  sessionClock?: MqttBrokerOptions['sessionClock'];
  /** The built analyst pages (default: dist/web of the package; dashboards/index.ts). */
  webAssetsDir?: string;
  /** How far a backfill of history has got, shown by GET /api/v1/live (the demo sets it; default none). */
  history?: HistoryStatus;
}

export class Gateway {
  readonly metrics: GatewayMetrics;
  private readonly webAssetsDir: string | undefined;
  readonly directory: StoreDirectory;
  readonly rejections: RejectionLog;
  readonly live: LiveState;
  readonly pipeline: IngestPipeline;
  readonly ledger: Ledger;
  readonly deadLetters: DeadLetterStore;
  readonly eventLog: EventLog;
  readonly index: MessageIndex;
  readonly customerTokens: CustomerTokenVault;
  /** Consents per customer and purpose, and the audit log (`<state.dir>/consent.sqlite`). */
  readonly consents: ConsentRegistry;
  /** The CRM destinations: their outbox, sinks and deliveries (`sinks.crm`). */
  readonly crm: CrmForwarding;
  /** The HTTP API's bearer tokens (`<state.dir>/api-tokens.sqlite`), shared with `storeloop tokens`. */
  readonly apiTokens: ApiTokenStore;
  readonly sinks: SinkSet;
  private readonly writer: InfluxWriter;
  private readonly extraSinks: NonNullable<GatewayOptions['extraSinks']>;
  private readonly indexUpkeep: MessageIndexUpkeep;
  private legacyDrain: Promise<void> | undefined;
  private stopping = false;
  private readonly broker: MqttBroker;
  /** The MQTT identities and their secrets (`storeloop credentials`, /api/v1/mqtt/identities). */
  readonly mqttIdentities: MqttIdentityStore;
  private readonly authenticator: MqttAuthenticator;
  private http: FastifyInstance | undefined;
  private readonly log: Logger;
  private readonly history: HistoryStatus | undefined;

  constructor(
    readonly config: Config,
    options: GatewayOptions,
  ) {
    this.log = options.log;
    this.webAssetsDir = options.webAssetsDir;
    this.history = options.history;
    this.metrics = options.metrics ?? new GatewayMetrics();
    this.directory = StoreDirectory.fromConfig(config);
    this.rejections = new RejectionLog(config.ingest.rejectionsKept);
    this.live = new LiveState(config.stores);
    this.writer = new InfluxWriter(config.influx, { log: this.log, metrics: this.metrics });
    this.ledger = new Ledger(this.metrics.registry);
    this.deadLetters = new DeadLetterStore(join(config.state.dir, 'dead-letters.jsonl'));
    const logDir = join(config.state.dir, 'log');
    this.eventLog = new EventLog({
      dir: logDir,
      quotaBytes: config.eventLog.quotaBytes,
      segmentBytes: config.eventLog.segmentBytes,
      replayRetentionMs: config.eventLog.replayRetentionSeconds * 1000,
      backpressureHoldMs: config.eventLog.backpressureHoldMs,
      log: this.log,
    });
    registerLogMetrics(this.eventLog, this.metrics.registry);
    this.index = new MessageIndex({
      file: join(config.state.dir, 'message-index.sqlite'),
      dedupWindowMs: config.ingest.dedupWindowSeconds * 1000,
      log: this.log,
    });
    this.indexUpkeep = new MessageIndexUpkeep({ index: this.index, eventLog: this.eventLog, log: this.log });
    this.customerTokens = new CustomerTokenVault(join(config.state.dir, 'identity.sqlite'));
    this.consents = new ConsentRegistry(join(config.state.dir, 'consent.sqlite'));
    this.crm = new CrmForwarding(config, { consents: this.consents, customers: this.customerTokens, registry: this.metrics.registry, log: this.log });
    this.apiTokens = new ApiTokenStore({ file: join(config.state.dir, 'api-tokens.sqlite'), keyFile: secretKeyPath(config.state) });
    this.sinks = new SinkSet(this.eventLog, {
      checkpointDir: join(logDir, 'sinks'),
      log: this.log.child({ module: 'sinks' }),
      registry: this.metrics.registry,
    });
    this.extraSinks = options.extraSinks ?? [];
    this.pipeline = new IngestPipeline({
      config,
      directory: this.directory,
      eventLog: this.eventLog,
      index: this.index,
      customerTokens: this.customerTokens,
      ledger: this.ledger,
      metrics: this.metrics,
      log: this.log.child({ module: 'ingest' }),
      rejections: this.rejections,
      live: this.live,
    });
    this.mqttIdentities = new MqttIdentityStore(join(config.state.dir, 'mqtt-identities.sqlite'), secretKeyPath(config.state));
    const brokerLog = this.log.child({ module: 'broker' });
    this.authenticator = new MqttAuthenticator({
      store: this.mqttIdentities,
      anonymous: config.mqtt.auth.anonymous,
      maxConnectionsPerStore: config.mqtt.limits.maxConnectionsPerStore,
      maxConnectionsPerIdentity: config.mqtt.limits.maxConnectionsPerIdentity,
      log: brokerLog,
      refused: (reason, context) => this.broker.refused(reason, context),
      certificateName: verifiedCertificateName,
    });
    this.broker = new MqttBroker({
      host: config.mqtt.host,
      port: config.mqtt.port,
      wsPort: config.mqtt.wsPort,
      tls: config.mqtt.tls,
      authorizePublish: createAuthorizePublish(this.pipeline, brokerLog, {
        ackMode: config.mqtt.ackMode,
        onRetainDropped: (kind) => this.metrics.retainDropped.inc({ kind }),
        identityOf: (client) => this.authenticator.identityOf(client),
      }),
      authenticator: this.authenticator,
      topicPrefix: config.mqtt.topicPrefix,
      log: brokerLog,
      metrics: this.metrics,
      createPersistence: () => {
        const log = this.log.child({ module: 'broker-state' });
        const alarms = new RateLimitedLog(log, 10_000);
        return createBrokerPersistence(
          {
            kind: config.mqtt.persistence,
            dir: config.state.dir,
            maxQueuedPerClient: config.mqtt.limits.maxQueuedPerSession,
            onQueueFull: (clientId) => {
              this.metrics.mqttQueueDropped.inc();
              alarms.warn(
                'queue-full',
                { clientId: maskClientId(clientId), max: config.mqtt.limits.maxQueuedPerSession },
                "a client's queue is full (mqtt.limits.maxQueuedPerSession): new QoS 1 packets for it are dropped until it catches up",
              );
            },
          },
          log,
        );
      },
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      limits: config.mqtt.limits,
      ...(options.sessionClock === undefined ? {} : { sessionClock: options.sessionClock }),
    });
  }

  async start(): Promise<void> {
    for (const warning of configWarnings(this.config)) this.log.warn({ config: 'deprecated' }, warning);
    await this.writer.start();
    await this.deadLetters.open();
    await this.eventLog.open();
    this.customerTokens.open();
    this.consents.open();
    this.mqttIdentities.open();
    this.apiTokens.open();
    await this.indexUpkeep.start();
    const influx = this.config.sinks.influx;
    const encoder = new BatchEncoder(this.config.influx.batchSize, this.log.child({ module: 'influx-sink' }), influx.encodeInWorker);
    await this.sinks.attach(new InfluxSink({ writer: this.writer, encoder, deadLetters: this.deadLetters, metrics: this.metrics, log: this.log }), {
      ...DEFAULT_SINK_RUNNER_OPTIONS,
      batchRecords: influx.batchRecords,
      retryMinMs: influx.retryMinMs,
      retryMaxMs: influx.retryMaxMs,
      checkpointIntervalMs: influx.checkpointIntervalMs,
      maxInFlight: influx.maxInFlightBatches,
    });
    const consent = await this.sinks.attach(
      new ConsentSink(this.consents, this.customerTokens, this.config.privacy, this.log, this.metrics.registry),
      DEFAULT_SINK_RUNNER_OPTIONS,
    );
    const experience = experienceSinkFor(this.config, { eventLog: this.eventLog, index: this.index, log: this.log, registry: this.metrics.registry });
    if (experience) await this.sinks.attach(experience.sink, experience.options);
    await this.crm.attach(this.sinks, () => consent.settledPosition);
    for (const extra of this.extraSinks) await this.sinks.attach(extra.sink, { ...DEFAULT_SINK_RUNNER_OPTIONS, ...extra.options });
    this.legacyDrain = drainLegacySpool({
      dir: join(this.config.state.dir, 'spool'),
      writer: this.writer,
      deadLetters: this.deadLetters,
      log: this.log,
      stopped: () => this.stopping,
    }).catch((err: unknown) => this.log.error({ err }, 'legacy spool could not be drained (kept for the next start)'));
    this.http = await buildHttpServer(
      {
        config: this.config,
        directory: this.directory,
        rejections: this.rejections,
        metrics: this.metrics,
        live: this.live,
        ...(this.history ? { history: this.history } : {}),
        version: STORELOOP_VERSION,
        ledger: this.ledger,
        deadLetters: this.deadLetters,
        eventLog: this.eventLog,
        sinks: this.sinks,
        tokens: this.apiTokens,
        mqttIdentities: this.mqttIdentities,
        consents: this.consents,
        customerTokens: this.customerTokens,
        crm: this.crm,
        erasure: new CustomerErasure({ consents: this.consents, crm: this.crm, customers: this.customerTokens, keyFile: secretKeyPath(this.config.state) }),
        influxQuery: new InfluxQuery(this.config.influx),
        readiness: [
          { name: 'broker', check: () => this.broker.isListening },
          { name: 'influx', check: () => this.writer.ping() },
        ],
      },
      this.log.child({ module: 'http' }),
      [async (app) => app.register(dashboardsPlugin, this.webAssetsDir === undefined ? {} : { assetsDir: this.webAssetsDir })],
    );
    await this.broker.start();
    await this.http.listen({ port: this.config.http.port, host: this.config.http.host });
    this.log.info({ urls: this.urls() }, 'gateway started');
    for (const { context, message } of listenerWarnings(this.config)) this.log.warn(context, message);
  }

  /**
   * Stops accepting MQTT and HTTP (held publishes settle), stops the sinks (checkpoints made durable),
   * lets the writer's requests in flight finish, persists the index and closes the log. What a sink
   * has not consumed stays in the log for the next start. Bounded by the writer's stop timeout.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.broker.stop();
    await this.http?.close();
    await this.sinks.stop();
    await this.crm.stop();
    await this.legacyDrain;
    await this.writer.stop();
    this.indexUpkeep.stop();
    await this.eventLog.close();
    this.index.close();
    this.customerTokens.close();
    this.consents.close();
    this.mqttIdentities.close();
    this.apiTokens.close();
    await this.deadLetters.close();
    this.log.info('gateway stopped');
  }

  get mqttPort(): number {
    return this.broker.port;
  }

  get wsPort(): number | null {
    return this.broker.wsPort;
  }

  /** The bound MQTT over TLS port; null without mqtt.tls. */
  get mqttsPort(): number | null {
    return this.broker.tlsPort;
  }

  get wssPort(): number | null {
    return this.broker.wssPort;
  }

  /** Reads the MQTT TLS certificate files again (the gateway command calls it on SIGHUP); true when the certificate changed. */
  reloadTls(): boolean {
    return this.broker.reloadTls();
  }

  get httpPort(): number {
    const address = this.http?.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  urls(): GatewayUrls {
    const host = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
    const http = `http://${host(this.config.http.host)}:${this.httpPort}`;
    const wsPort = this.wsPort;
    const tlsHost = host(this.config.mqtt.tls?.host ?? '');
    const { mqttsPort, wssPort } = this;
    return {
      mqtt: `mqtt://${host(this.config.mqtt.host)}:${this.mqttPort}`,
      ws: wsPort === null ? null : `ws://${host(this.config.mqtt.host)}:${wsPort}${WS_PATH}`,
      mqtts: mqttsPort === null ? null : `mqtts://${tlsHost}:${mqttsPort}`,
      wss: wssPort === null ? null : `wss://${tlsHost}:${wssPort}${WS_PATH}`,
      http,
      docs: `${http}/docs`,
      metrics: `${http}/metrics`,
      live: `${http}/`,
    };
  }

  /** Publishes on behalf of the gateway (e.g. retained config for agents, later). */
  publish(topic: string, payload: string, options: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    return this.broker.publish(topic, payload, options);
  }
}
