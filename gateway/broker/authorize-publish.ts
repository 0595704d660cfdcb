/**
 * The broker's publish policy: every PUBLISH goes through the ingest pipeline before aedes answers it.
 *
 * aedes runs `authorizePublish` before it writes the QoS 1 PUBACK (lib/handlers/publish.js), so a QoS 1
 * message is acknowledged only once it is durable: appended to the event log and fsynced. InfluxDB and
 * every other sink consume the log afterwards, at their own pace, so they never change PUBACK latency.
 * An error passed to the callback disconnects the client [MQTT-3.3.5-2], and a device disconnected
 * before its PUBACK resends the same message forever, so a rejected message is acknowledged and
 * dropped (and counted), never answered with a disconnect.
 *
 * Backpressure: MQTT 3.1.1 has no negative acknowledgement. When the log's quota is full of records
 * InfluxDB has not consumed, the append holds the publish for up to eventLog.backpressureHoldMs; then
 * the client is disconnected without PUBACK, with the reason logged, and resends later. The hold is
 * short on purpose: aedes stops reading a client's socket while one of its publishes is held, so its
 * PINGREQs go unanswered, and a hold past 1.5 × keepalive would make the client drop and reconnect in
 * a storm. See docs/ARCHITECTURE.md (delivery guarantees).
 */
import type { AedesPublishPacket, Client, PublishPacket } from 'aedes';

import type { MqttGrant } from '../auth/mqtt-grants.js';
import { maskClientId } from '../ingest/redact.js';
import type { Logger } from '../../lib/logger.js';
import type { IngestPipeline } from '../ingest/ingest-pipeline.js';

/** Where acknowledged-but-not-forwarded messages are routed: a topic no client may subscribe to. */
export const DROPPED_TOPIC = '$storeloop/dropped';

type Packet = AedesPublishPacket | PublishPacket;

/** Acknowledge the packet but deliver it to nobody and retain nothing. */
function dropPacket(packet: Packet): void {
  packet.topic = DROPPED_TOPIC;
  packet.payload = Buffer.alloc(0);
  packet.retain = false;
}

export interface AuthorizePublishOptions {
  /** `immediate` acknowledges before the message is durable (benchmark reference only). */
  ackMode: 'durable' | 'immediate';
  /** A data message arrived with the retain flag, which was dropped (only statuses are retained). */
  onRetainDropped?: (kind: string) => void;
  /** The identity a client authenticated as; a client without one may publish nothing. */
  identityOf?: (client: Client) => { name: string | null; grant: MqttGrant } | undefined;
}

/** A connected client the broker knows no identity of (never expected): granted nothing. */
const NOTHING: { name: null; grant: MqttGrant } = { name: null, grant: { role: 'device', stores: [], source: null, forwards: [] } };

export function createAuthorizePublish(pipeline: IngestPipeline, log: Logger, options: AuthorizePublishOptions = { ackMode: 'durable' }) {
  let lastRefusalLogAt = 0;
  return function authorizePublish(client: Client | null, packet: Packet, callback: (error?: Error | null) => void): void {
    // reserved topics ($SYS/, $storeloop/) are outside the contract prefix: rejected and dropped below
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const outcome = pipeline.handle({
      topic: packet.topic,
      payload,
      clientId: client?.id ?? null,
      receivedAt: Date.now(),
      qos: packet.qos,
      retain: packet.retain,
      ...(client === null || options.identityOf === undefined ? {} : { publisher: options.identityOf(client) ?? NOTHING }),
    });
    if (outcome.status === 'rejected') {
      dropPacket(packet);
      callback(null);
      return;
    }
    if (outcome.status === 'failed') {
      // not acknowledged and delivered to nobody; a QoS 1 publisher resends after the disconnect
      dropPacket(packet);
      callback(outcome.error);
      return;
    }
    if (outcome.status === 'forwarded') {
      callback(null); // an agent's remote config: delivered (and retained) as published
      return;
    }
    if (outcome.status === 'duplicate') dropPacket(packet);
    else packet.payload = outcome.forwardPayload;
    if (packet.retain && outcome.kind !== 'status') {
      // only a status is retained (a device's last known state); a retained sighting or interaction would be
      // handed to every later subscriber as if it were new. The message is logged; the flag is dropped.
      packet.retain = false;
      options.onRetainDropped?.(outcome.kind);
    }
    if (packet.qos === 0 || options.ackMode === 'immediate') {
      outcome.logged.catch(() => undefined); // settled in the ledger by the pipeline
      callback(null);
      return;
    }
    outcome.logged.then(
      () => callback(null),
      (err: unknown) => {
        const now = Date.now();
        if (now - lastRefusalLogAt > 10_000) {
          lastRefusalLogAt = now;
          log.warn(
            { clientId: maskClientId(client?.id ?? null), reason: (err as { code?: string }).code, err: (err as Error).message },
            'publish not acknowledged: disconnecting the client so it resends later',
          );
        }
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  };
}
