/**
 * The consent sink: a sink of the event log that records the touchpoints' `consent_granted` and
 * `consent_withdrawn` messages in the consent registry, in log order, each once (the message's source,
 * time and id are the change's key, so a record delivered again after a crash is not recorded twice). It holds back
 * ingest like the InfluxDB sink: a consent change, a withdrawal above all, is never dropped, however
 * long the registry could not be written.
 *
 * It also records the identity links customers make: a touchpoint message that names a customer and
 * the visitor's beacon id (or the app's visitor pseudonym) links that pseudonym to the customer for
 * `privacy.identityLinkDays` from the message's time (the customer identified themselves with that
 * phone), so the CRM sinks can tell whose visit a beacon's visit was.
 */
import type { Counter, Registry } from 'prom-client';
import { Counter as PromCounter } from 'prom-client';

import type { Config } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import { isConsentAction } from '../../protocol/index.js';
import type { LogRecord, LogRecordOf } from '../log/log-record.js';
import type { Sink, SinkOutcome } from '../sinks/sink.js';
import type { CustomerTokenVault } from '../identity/customer-tokens.js';
import type { ConsentChannel, ConsentRegistry } from './consent-registry.js';

/** How a touchpoint of each configured type collects a consent: a QR code is scanned in the customer's own app; the others are store devices. */
const CHANNEL_BY_TOUCHPOINT_TYPE: Record<string, ConsentChannel> = { qr: 'app', kiosk: 'kiosk', mirror: 'kiosk', feedback: 'kiosk' };

export const CONSENT_SINK_NAME = 'consent';

export class ConsentSink implements Sink {
  readonly name = CONSENT_SINK_NAME;
  readonly holdsBackIngest = true;
  private readonly recorded: Counter<'purpose' | 'state'>;

  private readonly deps: { registry: ConsentRegistry; customers: CustomerTokenVault; linkValidMs: number; log: Logger };

  constructor(registry: ConsentRegistry, customers: CustomerTokenVault, privacy: Pick<Config['privacy'], 'identityLinkDays'>, log: Logger, metrics: Registry) {
    this.deps = { registry, customers, linkValidMs: privacy.identityLinkDays * 86_400_000, log };
    this.recorded = new PromCounter({
      name: 'storeloop_consent_changes_total',
      help: 'Consent changes recorded from touchpoint messages, by purpose and state (granted, withdrawn)',
      labelNames: ['purpose', 'state'],
      registers: [metrics],
    });
  }

  deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    return Promise.resolve(records.map((record) => this.take(record)));
  }

  private take(record: LogRecord): SinkOutcome {
    if (record.kind !== 'touchpoint') return 'filtered';
    const touchpoint = record as LogRecordOf<'touchpoint'>;
    const { action, purpose, customerToken, notice, beacon, visitor } = touchpoint.message;
    const { storeId, sourceId, type } = touchpoint.source as { storeId: string; sourceId: string; type?: string | null };
    const linked = customerToken === undefined ? [] : [beacon, visitor].filter((p): p is string => p !== undefined);
    for (const pseudonym of linked)
      this.deps.customers.link(pseudonym, customerToken as string, record.eventTime, this.deps.linkValidMs, `touchpoint ${storeId}/${sourceId}`);
    if (!isConsentAction(action)) return linked.length > 0 ? 'delivered' : 'filtered';
    if (purpose === undefined || customerToken === undefined) {
      // the contract requires both; a record without them was logged by a gateway older than consent actions
      this.deps.log.warn({ module: 'consent', seq: record.seq, action }, 'consent action without purpose or customer in the log: not recorded');
      return 'filtered';
    }
    const state = action === 'consent_granted' ? 'granted' : 'withdrawn';
    const { created } = this.deps.registry.record({
      // the message's identity (as the message index knows it) and time: not the log position, which starts again if the log dir is wiped
      key: `msg:${storeId}/${sourceId}/${record.eventTime}/${record.mid ?? record.payloadHash ?? `seq-${record.seq}`}`,
      customerToken,
      purpose,
      state,
      at: record.eventTime,
      channel: CHANNEL_BY_TOUCHPOINT_TYPE[type ?? ''] ?? 'kiosk',
      origin: `touchpoint ${storeId}/${sourceId}`,
      notice,
      proof: `event log record ${record.seq}${record.mid === null ? '' : ` (mid ${record.mid})`}`,
    });
    if (created) this.recorded.inc({ purpose, state });
    return 'delivered';
  }
}
