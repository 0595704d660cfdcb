/**
 * Appends the gateway's derived records (derived-record.ts) to the event log the way accepted
 * messages are appended: the deterministic id is the record's mid, so the message index drops an
 * event appended twice (a recomputation after a restart), and each record gets a unique event slot,
 * so two events never map to the same InfluxDB point.
 */
import type { EventLog } from './event-log.js';
import { EXPERIENCE_SOURCE_ID, experienceEventTime, type ExperienceEvent } from './derived-record.js';
import { LOG_RECORD_VERSION, type LogEntry } from './log-record.js';
import { midKey, type MessageIndex } from './message-index.js';

export interface DerivedAppendResult {
  appended: number;
  /** Events whose id was appended before (within the index's dedup window): not appended again. */
  duplicates: number;
}

export class DerivedLog {
  constructor(private readonly deps: { eventLog: Pick<EventLog, 'append'>; index: MessageIndex; now?: () => number }) {}

  /** Appends `events` of store `storeId` in order; resolves once every new one is fsynced. */
  async append(storeId: string, events: readonly ExperienceEvent[]): Promise<DerivedAppendResult> {
    const { eventLog, index } = this.deps;
    const receivedAt = (this.deps.now ?? Date.now)();
    const appends: Array<Promise<number>> = [];
    let duplicates = 0;
    for (const event of events) {
      const key = midKey(storeId, 'experience', EXPERIENCE_SOURCE_ID, event.id);
      if (index.find(key) !== undefined) {
        duplicates += 1;
        continue;
      }
      const eventTime = experienceEventTime(event);
      const entry: LogEntry<'experience'> = {
        v: LOG_RECORD_VERSION,
        kind: 'experience',
        source: { storeId, sourceId: EXPERIENCE_SOURCE_ID, role: 'engine', type: null, zone: null },
        eventTime,
        receivedAt,
        mid: event.id,
        qos: 1,
        slot: index.allocateSlot(storeId, 'experience', EXPERIENCE_SOURCE_ID, eventTime, 1),
        message: event,
      };
      const logged = eventLog.append(entry);
      index.track(key, logged);
      appends.push(logged.then((seq) => (index.committed(entry, seq, key), seq)));
    }
    await Promise.all(appends);
    return { appended: appends.length, duplicates };
  }
}
