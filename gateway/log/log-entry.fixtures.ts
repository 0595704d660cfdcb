/** Log entries for the unit tests of gateway/log and gateway/sinks (test support: not in the build). */
import type { LogEntry } from './log-record.js';

/** Touchpoint entry `i` of source kiosk-1 in store s1: mid `m-i`, event time 1.7e12 + i ms. */
export function touchpointEntry(i: number, message: { action?: string; label?: string } = {}): LogEntry<'touchpoint'> {
  return {
    v: 1,
    kind: 'touchpoint',
    source: { storeId: 's1', sourceId: 'kiosk-1', role: 'touchpoint', type: 'kiosk', zone: 'door' },
    eventTime: 1_700_000_000_000 + i,
    receivedAt: 1_700_000_000_000 + i,
    mid: `m-${i}`,
    qos: 1,
    slot: { offset: 0 },
    message: {
      v: 1,
      ts: 1_700_000_000_000 + i,
      mid: `m-${i}`,
      action: message.action ?? 'tap',
      ...(message.label === undefined ? {} : { label: message.label }),
    },
  };
}
