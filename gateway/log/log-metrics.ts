/** The event log's state in /metrics, read when Prometheus scrapes. */
import { Gauge, type Registry } from 'prom-client';

import type { EventLog, EventLogStatus } from './event-log.js';

export function registerLogMetrics(eventLog: EventLog, registry: Registry): void {
  const registers = [registry];
  const gauge = (name: string, help: string, pick: (s: EventLogStatus) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(pick(eventLog.status()));
      },
    });
  gauge('storeloop_log_head_seq', 'Seq of the newest record in the event log', (s) => s.headSeq);
  gauge('storeloop_log_retained_records', 'Records the event log keeps on disk (not consumed by every sink, or kept for replay)', (s) => s.retainedRecords);
  gauge('storeloop_log_retained_bytes', 'Bytes the event log keeps on disk (headers included)', (s) => s.retainedBytes);
  gauge(
    'storeloop_log_unconsumed_bytes',
    'Bytes sinks that hold back ingest (InfluxDB) have not consumed; at the quota, QoS 1 is no longer acknowledged',
    (s) => s.unconsumedBytes,
  );
  gauge('storeloop_log_quota_bytes', 'The event log quota (eventLog.quotaBytes)', (s) => s.quotaBytes);
  gauge('storeloop_log_oldest_age_seconds', 'Age of the oldest retained record', (s) => s.oldestAgeSeconds);
  gauge('storeloop_log_appended_records', 'Records appended by this run of the gateway', (s) => s.appendedRecords);
  gauge('storeloop_log_fsyncs', 'fsync/fdatasync calls of the event log by this run (group commit: many records per fsync)', (s) => s.fsyncs);
}
