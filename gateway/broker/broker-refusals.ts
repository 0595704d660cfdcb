/**
 * Every reason the broker refuses a connection, a packet or a subscription, and what an installer
 * reads about it in the log. Each is a label of `storeloop_mqtt_refused_total{reason}`
 * (docs/security.md lists them with the attack each stops).
 */
import type { ConnectRefusal } from './mqtt-authenticator.js';
import { TLS_REFUSAL_TEXT, type TlsRefusal } from './tls-listeners.js';
import type { TransportRefusal } from './transport-guard.js';

/** What an installer reads in the log when the transport refuses something. */
export type BrokerRefusal =
  TransportRefusal | TlsRefusal | ConnectRefusal | 'too_many_subscriptions' | 'reserved_topic' | 'rate_exceeded' | 'too_many_sessions' | 'slow_subscriber';

export const REFUSAL_TEXT: Record<BrokerRefusal, string> = {
  bad_credentials: 'MQTT connection refused (CONNACK 4): unknown identity, wrong secret, or revoked (storeloop credentials list)',
  no_credentials: 'MQTT connection refused (CONNACK 5): no user name and no client certificate, and mqtt.auth.anonymous is off',
  client_id_taken: 'MQTT connection refused (CONNACK 2): the client id is connected, or holds a persistent session, under another identity',
  too_many_connections_for_store: 'MQTT connection refused (CONNACK 3): mqtt.limits.maxConnectionsPerStore reached for its store',
  too_many_connections_for_identity: 'MQTT connection refused (CONNACK 3): mqtt.limits.maxConnectionsPerIdentity reached for its identity',
  slow_subscriber:
    'MQTT subscriber disconnected: its socket took no delivery within mqtt.limits.subscriberDrainTimeoutMs (a client that subscribes and stops reading holds up the PUBACKs of every publisher it subscribed to)',
  rate_exceeded:
    'MQTT client disconnected: it publishes so far over mqtt.limits.maxMessagesPerSecondPerClient / maxBytesPerSecondPerClient that it would wait longer than maxThrottleDelayMs',
  reserved_topic: 'MQTT subscription refused: $-topics ($SYS, $storeloop) are not for clients (broker figures are on /metrics)',
  packet_too_large: 'MQTT packet refused before it was read: it declares more bytes than mqtt.maxPayloadBytes allows; connection closed',
  malformed_length: 'MQTT packet with a malformed length; connection closed',
  packet_timeout: 'MQTT packet not completed within mqtt.limits.packetTimeoutMs; connection closed',
  too_many_connections: 'MQTT connection refused: mqtt.limits.maxConnections reached',
  too_many_connections_from_address: 'MQTT connection refused: mqtt.limits.maxConnectionsPerAddress reached for this address',
  too_many_sessions:
    'MQTT connection refused with CONNACK 3 (server unavailable): mqtt.limits.maxPersistentSessions persistent sessions are kept already; a client whose session is kept is still let in',
  too_many_subscriptions: 'MQTT subscription refused: mqtt.limits.maxSubscriptionsPerClient reached for this client',
  ...TLS_REFUSAL_TEXT,
};
