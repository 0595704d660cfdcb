/** What the HTTP route plugins read from the running gateway. */
import type { Config } from '../../config/index.js';
import type { ApiTokenStore } from '../auth/api-tokens.js';
import type { ConsentRegistry } from '../consent/consent-registry.js';
import type { CustomerErasure } from '../consent/customer-erasure.js';
import type { CrmForwarding } from '../crm/crm-forwarding.js';
import type { CustomerTokenVault } from '../identity/customer-tokens.js';
import type { MqttIdentityStore } from '../auth/mqtt-identities.js';
import type { RejectionLog } from '../ingest/rejection.js';
import type { StoreDirectory } from '../ingest/store-directory.js';
import type { HistoryStatus } from '../live/history-status.js';
import type { LiveState } from '../live/live-state.js';
import type { InfluxQuery } from '../influx/influx-query.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Ledger } from '../ingest/ledger.js';
import type { EventLogStatus } from '../log/event-log.js';
import type { DeadLetterStore } from '../sinks/dead-letters.js';
import type { SinkSet } from '../sinks/sink-set.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean> | boolean;
}

export interface HttpDeps {
  config: Config;
  directory: StoreDirectory;
  rejections: RejectionLog;
  metrics: GatewayMetrics;
  live: LiveState;
  /** A backfill of history filling in (the demo sets it); absent: none (GET /api/v1/live answers `history: null`). */
  history?: Pick<HistoryStatus, 'snapshot'>;
  readiness: ReadinessCheck[];
  ledger: Ledger;
  deadLetters: DeadLetterStore;
  /** `after`: what is retained after a seq (the pipeline route reads the append times of the oldest and newest record). */
  eventLog: { status(): EventLogStatus; after(afterSeq: number): { records: number; bytes: number; oldestAppendedAt: number | null } };
  sinks: Pick<SinkSet, 'status' | 'detach' | 'replay'>;
  version: string;
  /** The API tokens (opened); looked up on every authenticated request. */
  tokens: ApiTokenStore;
  /** The MQTT identities (opened); the broker applies changes at once. */
  mqttIdentities: MqttIdentityStore;
  /** The consent registry and the identity vault (opened), for the privacy routes (consent-routes.ts). */
  consents: ConsentRegistry;
  customerTokens: CustomerTokenVault;
  /** The CRM destinations: status, outbox, dead letters (crm-routes.ts). */
  crm: Pick<CrmForwarding, 'deliveries' | 'outbox' | 'replayDeadLetters'>;
  /** Erasing a customer everywhere (DELETE /api/v1/customers/{customer}). */
  erasure: CustomerErasure;
  /** InfluxQL against the configured InfluxDB, for the metrics API (analytics-routes.ts). */
  influxQuery: Pick<InfluxQuery, 'query'>;
}
