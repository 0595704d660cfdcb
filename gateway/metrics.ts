/**
 * Prometheus metrics of the gateway (prom-client), one registry per gateway instance so tests can run
 * several gateways in one process. Label values are bounded: stores and kinds come from the config and
 * the contract; anything else is counted under `_unknown`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const UNKNOWN_LABEL = '_unknown';

export class GatewayMetrics {
  readonly registry = new Registry();

  readonly messagesReceived = new Counter({
    name: 'storeloop_messages_received_total',
    help: 'MQTT messages received on contract topics',
    labelNames: ['store', 'kind'],
    registers: [this.registry],
  });
  readonly messagesAccepted = new Counter({
    name: 'storeloop_messages_accepted_total',
    help: 'Messages validated and appended to the event log',
    labelNames: ['store', 'kind'],
    registers: [this.registry],
  });
  readonly messagesRejected = new Counter({
    name: 'storeloop_messages_rejected_total',
    help: 'Messages rejected, by reason',
    labelNames: ['store', 'kind', 'reason'],
    registers: [this.registry],
  });
  readonly messagesDuplicate = new Counter({
    name: 'storeloop_messages_duplicate_total',
    help: 'Messages recognised as resends by their mid (or, without one, their payload bytes)',
    labelNames: ['store', 'kind'],
    registers: [this.registry],
  });
  readonly itemsRejected = new Counter({
    name: 'storeloop_items_rejected_total',
    help: 'Sightings/observations rejected inside accepted messages',
    labelNames: ['store', 'kind'],
    registers: [this.registry],
  });
  readonly pointsQueued = new Counter({
    name: 'storeloop_points_queued_total',
    help: 'Points the InfluxDB sink handed to the writer',
    labelNames: ['measurement'],
    registers: [this.registry],
  });
  readonly pointsWritten = new Counter({ name: 'storeloop_points_written_total', help: 'Points InfluxDB accepted (2xx)', registers: [this.registry] });
  readonly writeFailures = new Counter({
    name: 'storeloop_influx_write_failures_total',
    help: 'Failed InfluxDB write attempts, by HTTP status (or network)',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly pointsDropped = new Counter({
    name: 'storeloop_points_dropped_total',
    help: 'Points given up on (lost), by reason. Stays 0 since the event log: unwritten records stay in the log and lines InfluxDB refuses are dead-lettered (storeloop_dead_lettered_lines_total); kept so dashboards and alerts on it still work',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly writeLatency = new Histogram({
    name: 'storeloop_influx_write_duration_seconds',
    help: 'Duration of InfluxDB write requests that InfluxDB accepted (2xx)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly batchPoints = new Histogram({
    name: 'storeloop_influx_batch_points',
    help: 'Points per successful InfluxDB write request',
    buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000],
    registers: [this.registry],
  });
  readonly mqttClients = new Gauge({ name: 'storeloop_mqtt_clients', help: 'Connected MQTT clients', labelNames: ['transport'], registers: [this.registry] });
  readonly mqttConnections = new Counter({
    name: 'storeloop_mqtt_connections_total',
    help: 'MQTT client connections accepted',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  readonly mqttRefused = new Counter({
    name: 'storeloop_mqtt_refused_total',
    help: 'MQTT connections, packets and subscriptions refused, by reason: failed logins and taken client ids, TLS handshakes and client certificates, packets too large or stalled, connection, session and subscription caps, publish floods, slow subscribers (docs/security.md)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly mqttQueueDropped = new Counter({
    name: 'storeloop_mqtt_queue_dropped_total',
    help: 'QoS 1 packets not queued for a client because its queue held mqtt.limits.maxQueuedPerSession already',
    registers: [this.registry],
  });
  readonly mqttDenied = new Counter({
    name: 'storeloop_mqtt_denied_total',
    help: "Publishes and subscriptions refused by the topic ACL: the client's identity may not use the topic (docs/security.md)",
    labelNames: ['action', 'reason'],
    registers: [this.registry],
  });
  readonly mqttThrottled = new Counter({
    name: 'storeloop_mqtt_throttled_total',
    help: 'Publishes held back because their client was over its rate (mqtt.limits.maxMessagesPerSecondPerClient, maxBytesPerSecondPerClient)',
    registers: [this.registry],
  });
  readonly retainDropped = new Counter({
    name: 'storeloop_mqtt_retain_dropped_total',
    help: 'Data messages published with the retain flag: logged, but not retained (only statuses are)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly mqttClientErrors = new Counter({
    name: 'storeloop_mqtt_client_errors_total',
    help: 'MQTT client errors (protocol errors, disconnects by the broker)',
    registers: [this.registry],
  });
  readonly messagesShedOrRefused = new Counter({
    name: 'storeloop_messages_not_acknowledged_total',
    help: 'Valid messages the gateway could not log: QoS 0 shed, QoS 1 refused (not acknowledged: the publisher resends)',
    labelNames: ['store', 'kind', 'reason'],
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'storeloop_dead_lettered_lines_total',
    help: 'Lines InfluxDB refused for good, set aside with the reason',
    registers: [this.registry],
  });
  readonly backpressure = new Counter({
    name: 'storeloop_backpressure_total',
    help: 'Appends refused because the event log was full of records InfluxDB had not consumed',
    registers: [this.registry],
  });
  readonly influxUp = new Gauge({ name: 'storeloop_influx_up', help: '1 when the last InfluxDB ping or write succeeded', registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'storeloop_process_' });
  }
}
