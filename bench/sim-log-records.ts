/**
 * A simulation's messages as the event log would hold them, without MQTT: the well-formed ones the
 * gateway accepts (injected bad messages, `ts_in_future` and resent copies skipped), in the order
 * they reach the gateway (`sendAt`), each resolved against the store's config, with log seqs. For
 * feeding log consumers (the experience engine) directly.
 */
import type { StoreConfig } from '../config/index.js';
import { StoreDirectory, isRejection } from '../gateway/ingest/store-directory.js';
import { LOG_RECORD_VERSION, type LogRecord } from '../gateway/log/log-record.js';
import { decodeJson, decodeMessage, type MessageKind } from '../protocol/index.js';
import { messageBody, type SimMessage } from '../simulators/index.js';

export function simLogRecords(messages: readonly SimMessage[], store: StoreConfig): LogRecord[] {
  const directory = new StoreDirectory([store]);
  const seen = new Set<string>();
  const out: LogRecord[] = [];
  const ordered = [...messages].sort((a, b) => a.sendAt - b.sendAt);
  for (const m of ordered) {
    if (m.expectedRejection !== undefined || m.injected?.scope === 'message') continue;
    const json = decodeJson(messageBody(m));
    if (!json.ok) continue;
    const decoded = decodeMessage(m.kind, json.value);
    if (!decoded.ok) continue;
    const message = decoded.message as { mid?: string; ts?: number };
    if (message.mid !== undefined) {
      if (seen.has(message.mid)) continue;
      seen.add(message.mid);
    }
    const source = directory.resolve(store.id, m.kind, m.sourceId);
    if (isRejection(source)) continue;
    const kind: MessageKind = m.kind;
    const { customer: _customer, ...logged } = decoded.message as { customer?: string };
    out.push({
      v: LOG_RECORD_VERSION,
      kind,
      source,
      eventTime: message.ts ?? m.sendAt,
      receivedAt: m.sendAt,
      mid: message.mid ?? null,
      qos: 1,
      slot: { offset: 0 },
      message: logged,
      seq: out.length + 1,
      appendedAt: m.sendAt,
    } as unknown as LogRecord);
  }
  return out;
}
