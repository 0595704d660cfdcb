/** What a sink's status says (GET /api/v1/sinks, /readyz, the metrics): its position, lag, health and ledger. */
import type { SinkHealth } from './sink.js';
import type { SettledCounts } from './sink-checkpoint.js';

export interface SinkLedger {
  logged: number;
  pending: number;
  delivered: number;
  dead_lettered: number;
  filtered: number;
  expired: number;
  /** Records delivered again by a replay (not part of the equation). */
  replayed: number;
  balanced: boolean;
  /** Settled counts per store and kind. */
  rows: Array<{ store: string; kind: string } & SettledCounts>;
}

export interface SinkStatus {
  name: string;
  holdsBackIngest: boolean;
  /** Every record with seq <= position is settled (durably: durablePosition). */
  position: number;
  durablePosition: number;
  /** While a replay runs: the seq it has reached, and where it ends. */
  replay: { at: number; until: number } | null;
  lag: { records: number; bytes: number; seconds: number };
  lagBudget: { seconds: number; bytes: number } | null;
  health: SinkHealth;
  ledger: SinkLedger;
}
