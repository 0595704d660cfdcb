/** Counts of what the queue took in, shed and dropped since start, by kind and reason (reported in status and logs). */
import type { MessageKind } from '../../protocol/index.js';
import type { ShedReason } from './shed-policy.js';

export interface QueueCountsSnapshot {
  enqueued: Partial<Record<MessageKind, number>>;
  /** `<kind>/<reason>` → messages not queued or dropped at replay. */
  shed: Record<string, number>;
  published: number;
  /** Tails the spool set aside at open (torn writes after a power cut, damaged bytes). */
  tornTails: number;
}

export class QueueCounters {
  private readonly enqueued = new Map<MessageKind, number>();
  private readonly shed = new Map<string, number>();
  private published = 0;
  private tornTails = 0;

  countEnqueued(kind: MessageKind): void {
    this.enqueued.set(kind, (this.enqueued.get(kind) ?? 0) + 1);
  }

  countShed(kind: MessageKind, reason: ShedReason): void {
    const key = `${kind}/${reason}`;
    this.shed.set(key, (this.shed.get(key) ?? 0) + 1);
  }

  countPublished(): void {
    this.published += 1;
  }

  countTornTails(count: number): void {
    this.tornTails += count;
  }

  shedTotal(): number {
    let total = 0;
    for (const n of this.shed.values()) total += n;
    return total;
  }

  snapshot(): QueueCountsSnapshot {
    return { enqueued: Object.fromEntries(this.enqueued), shed: Object.fromEntries(this.shed), published: this.published, tornTails: this.tornTails };
  }
}
