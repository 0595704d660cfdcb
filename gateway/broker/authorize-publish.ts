/**
 * The broker's publish policy: every PUBLISH goes through the ingest pipeline before aedes answers it.
 *
 * aedes runs `authorizePublish` before it writes the QoS 1 PUBACK (lib/handlers/publish.js), so a QoS 1
 * message is acknowledged only once its points are durable (InfluxDB answered 2xx). An error passed to
 * the callback disconnects the client [MQTT-3.3.5-2], and a device disconnected before its PUBACK resends
 * the same message forever, so a rejected message is acknowledged and dropped (and counted), never
 * answered with a disconnect. Only a write that failed for a transient reason disconnects the client,
 * which then redelivers the unacknowledged message.
 */
import type { AedesPublishPacket, Client, PublishPacket } from 'aedes';

import type { Logger } from '../logger.js';
import type { IngestPipeline } from '../ingest/ingest-pipeline.js';
import { isPermanentWriteFailure } from '../ingest/write-failure.js';

/** Where acknowledged-but-not-forwarded messages are routed: a topic no client may subscribe to. */
export const DROPPED_TOPIC = '$storeloop/dropped';

type Packet = AedesPublishPacket | PublishPacket;

/** Acknowledge the packet but deliver it to nobody and retain nothing. */
function dropPacket(packet: Packet): void {
  packet.topic = DROPPED_TOPIC;
  packet.payload = Buffer.alloc(0);
  packet.retain = false;
}


export function createAuthorizePublish(pipeline: IngestPipeline, log: Logger) {
  return function authorizePublish(client: Client | null, packet: Packet, callback: (error?: Error | null) => void): void {
    // reserved topics ($SYS/, $storeloop/) are outside the contract prefix: rejected and dropped below
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const outcome = pipeline.handle({ topic: packet.topic, payload, clientId: client?.id ?? null, receivedAt: Date.now() });
    if (outcome.status === 'rejected') {
      dropPacket(packet);
      callback(null);
      return;
    }
    if (outcome.status === 'duplicate') dropPacket(packet);
    else packet.payload = outcome.forwardPayload;
    if (packet.qos === 0) {
      outcome.written.catch(() => undefined); // counted by the pipeline; QoS 0 is best effort
      callback(null);
      return;
    }
    outcome.written.then(
      () => callback(null),
      (err: unknown) => {
        if (isPermanentWriteFailure(err)) {
          dropPacket(packet);
          callback(null);
          return;
        }
        log.warn({ err, clientId: client?.id, topic: packet.topic }, 'write failed; disconnecting the client so it redelivers');
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  };
}
