/** What the HTTP route plugins read from the running gateway. */
import type { Config } from '../../config/index.js';
import type { RejectionLog } from '../ingest/rejection.js';
import type { StoreDirectory } from '../ingest/store-directory.js';
import type { LiveState } from '../live/live-state.js';
import type { GatewayMetrics } from '../metrics.js';
import type { DeadLetterStore } from '../delivery/dead-letters.js';
import type { DeliveryStatus } from '../delivery/delivery.js';
import type { Ledger } from '../delivery/ledger.js';

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
  readiness: ReadinessCheck[];
  ledger: Ledger;
  deadLetters: DeadLetterStore;
  delivery: { status(): DeliveryStatus };
  version: string;
}
