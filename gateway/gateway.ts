/**
 * The gateway's composition root: builds the InfluxDB writer, the ingest pipeline, the MQTT broker
 * and the HTTP API from one validated config, starts them in order and stops them in reverse.
 */
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';

import type { Config } from '../config/index.js';
import { createAuthorizePublish } from './broker/authorize-publish.js';
import { MqttBroker, WS_PATH } from './broker/mqtt-broker.js';
import { createBrokerPersistence } from './broker/persistence/index.js';
import { buildHttpServer } from './http/http-server.js';
import { IngestPipeline } from './ingest/ingest-pipeline.js';
import { RejectionLog } from './ingest/rejection.js';
import { StoreDirectory } from './ingest/store-directory.js';
import { InfluxWriter } from './influx/influx-writer.js';
import { LiveState } from './live/live-state.js';
import { DeadLetterStore } from './delivery/dead-letters.js';
import { Delivery } from './delivery/delivery.js';
import { Ledger } from './delivery/ledger.js';
import { Spool } from '../lib/spool/spool.js';
import type { Logger } from '../lib/logger.js';
import { GatewayMetrics } from './metrics.js';
import { STORELOOP_VERSION } from './version.js';

export interface GatewayUrls {
  mqtt: string;
  ws: string | null;
  http: string;
  docs: string;
  metrics: string;
  live: string;
}

export interface GatewayOptions {
  log: Logger;
  metrics?: GatewayMetrics;
}

export class Gateway {
  readonly metrics: GatewayMetrics;
  readonly directory: StoreDirectory;
  readonly rejections: RejectionLog;
  readonly live: LiveState;
  readonly pipeline: IngestPipeline;
  readonly ledger: Ledger;
  readonly deadLetters: DeadLetterStore;
  readonly spool: Spool;
  readonly delivery: Delivery;
  private readonly writer: InfluxWriter;
  private readonly broker: MqttBroker;
  private http: FastifyInstance | undefined;
  private readonly log: Logger;

  constructor(
    readonly config: Config,
    options: GatewayOptions,
  ) {
    this.log = options.log;
    this.metrics = options.metrics ?? new GatewayMetrics();
    this.directory = StoreDirectory.fromConfig(config);
    this.rejections = new RejectionLog(config.ingest.rejectionsKept);
    this.live = new LiveState(config.stores);
    this.writer = new InfluxWriter(config.influx, { log: this.log, metrics: this.metrics });
    this.ledger = new Ledger(this.metrics.registry);
    this.deadLetters = new DeadLetterStore(join(config.state.dir, 'dead-letters.jsonl'));
    this.spool = new Spool({ dir: join(config.state.dir, 'spool'), quotaBytes: config.spool.quotaBytes, segmentBytes: config.spool.segmentBytes, log: this.log.child({ module: 'spool' }) });
    this.delivery = new Delivery(
      { writer: this.writer, spool: this.spool, ledger: this.ledger, deadLetters: this.deadLetters, metrics: this.metrics, log: this.log },
      config.delivery,
    );
    this.pipeline = new IngestPipeline({
      config,
      directory: this.directory,
      sink: this.delivery,
      ledger: this.ledger,
      metrics: this.metrics,
      log: this.log.child({ module: 'ingest' }),
      rejections: this.rejections,
      live: this.live,
    });
    this.broker = new MqttBroker({
      host: config.mqtt.host,
      port: config.mqtt.port,
      wsPort: config.mqtt.wsPort,
      authorizePublish: createAuthorizePublish(this.pipeline, this.log.child({ module: 'broker' }), { ackMode: config.mqtt.ackMode }),
      log: this.log.child({ module: 'broker' }),
      metrics: this.metrics,
      createPersistence: () => createBrokerPersistence({ kind: config.mqtt.persistence, dir: config.state.dir }, this.log.child({ module: 'broker-state' })),
    });
  }

  async start(): Promise<void> {
    await this.writer.start();
    await this.deadLetters.open();
    await this.delivery.start();
    this.http = await buildHttpServer(
      {
        config: this.config,
        directory: this.directory,
        rejections: this.rejections,
        metrics: this.metrics,
        live: this.live,
        version: STORELOOP_VERSION,
        ledger: this.ledger,
        deadLetters: this.deadLetters,
        delivery: this.delivery,
        readiness: [
          { name: 'broker', check: () => this.broker.isListening },
          { name: 'influx', check: () => this.writer.ping() },
        ],
      },
      this.log.child({ module: 'http' }),
    );
    await this.broker.start();
    await this.http.listen({ port: this.config.http.port, host: this.config.http.host });
    this.log.info({ urls: this.urls() }, 'gateway started');
  }

  /**
   * Stops accepting MQTT and HTTP, lets held publishes settle, flushes the writer and closes the
   * spool; what is spooled stays for the next start. Bounded by the writer's stop timeout.
   */
  async stop(): Promise<void> {
    await this.broker.stop();
    await this.http?.close();
    await this.writer.stop();
    await this.delivery.stop();
    await this.deadLetters.close();
    this.log.info('gateway stopped');
  }

  get mqttPort(): number {
    return this.broker.port;
  }

  get wsPort(): number | null {
    return this.broker.wsPort;
  }

  get httpPort(): number {
    const address = this.http?.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  urls(): GatewayUrls {
    const host = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
    const http = `http://${host(this.config.http.host)}:${this.httpPort}`;
    const wsPort = this.wsPort;
    return {
      mqtt: `mqtt://${host(this.config.mqtt.host)}:${this.mqttPort}`,
      ws: wsPort === null ? null : `ws://${host(this.config.mqtt.host)}:${wsPort}${WS_PATH}`,
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
