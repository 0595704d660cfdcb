/**
 * The delivery model of delivery.ts one message at a time, for runs too long to hold: messages go in
 * in true-time order and come out in `sendAt` order as soon as nothing still to come can go out before
 * them. It draws from the same streams in the same order and orders ties the same way (online status
 * first, then the messages in the order they were taken, then each outage's statuses and replay), so
 * a run comes out exactly as deliverMessages makes it. What it holds: the messages not yet due (a
 * latency, a stall, a resend: seconds) and the traffic an open outage holds for its replay (at most
 * MAX_OUTAGE_MS of its agent's sources).
 */
import { isConsentMessage, type SimMessage } from './messages.js';
import { MinHeap } from './min-heap.js';
import { createRng } from './prng.js';
import { outageStatuses, planOutages, REPLAY_GAP_MS, RESEND_MAX_MS, RESEND_MIN_MS, type DeliveryParams, type DeliveryTruth, type Held } from './delivery.js';

interface Entry {
  message: SimMessage;
  /** 0: an online status, 1: everything else, 2: the closing offline status. */
  tier: number;
  /** 0: taken in true-time order; k + 1: outage k's statuses and replay (deliverMessages adds those after every other message). */
  phase: number;
  ord: number;
}

function compareEntries(a: Entry, b: Entry): number {
  return a.message.sendAt - b.message.sendAt || a.tier - b.tier || a.phase - b.phase || a.ord - b.ord;
}

export class DeliveryStream {
  private readonly heap = new MinHeap<Entry>(compareEntries);
  private readonly outages: Held[];
  /** Outages whose replay is not yet planned, by their end. */
  private readonly open: number[];
  /** When each outage's replay has drained (undefined: not ended yet, or nothing replayed). */
  private readonly drainedAt: Array<number | undefined>;
  private readonly streams;
  private readonly consentStreams;
  private ord = 0;
  private trueNow = Number.NEGATIVE_INFINITY;
  private lost = 0;
  private duplicated = 0;
  private replayed = 0;
  private reordered = 0;
  private maxDelayMs = 0;
  private readonly latestBySource = new Map<string, number>();
  private heldByOutages = 0;

  constructor(private readonly params: DeliveryParams) {
    const { seed } = params;
    this.streams = { loss: createRng(seed, 'delivery-loss'), dup: createRng(seed, 'delivery-duplicate'), latency: createRng(seed, 'delivery-latency') };
    this.consentStreams = {
      loss: createRng(seed, 'consent-delivery-loss'),
      dup: createRng(seed, 'consent-delivery-duplicate'),
      latency: createRng(seed, 'consent-delivery-latency'),
    };
    this.outages = planOutages(params);
    this.open = this.outages.map((_, k) => k).sort((a, b) => (this.outages[a] as Held).to - (this.outages[b] as Held).to || a - b);
    this.drainedAt = this.outages.map(() => undefined);
    // a will goes out while its outage still holds the traffic: planned now (it does not depend on what is held)
    this.outages.forEach((outage, k) => {
      if (outage.agent === undefined) return;
      for (const status of outageStatuses(outage, k, params)) if (status.payload.state === 'offline') this.add(status, 1, k + 1, 0);
    });
  }

  /** Messages held: not yet due, or held by an open outage. */
  get held(): number {
    return this.heap.size + this.heldByOutages;
  }

  /** Takes the next message (true-time order). */
  push(m: SimMessage): void {
    const { endMs, delivery } = this.params;
    this.endOutagesBy(m.trueTs);
    this.trueNow = Math.max(this.trueNow, m.trueTs);
    if (m.kind === 'status') {
      this.add(m, m.payload.state === 'online' ? 0 : m.trueTs >= endMs ? 2 : 1, 0, this.ord++);
      return;
    }
    const consent = isConsentMessage(m);
    // the counts are the other messages': a consent's fate is in the truth's `crm`
    const counted = consent ? 0 : 1;
    const outage = this.outages.find((o) => o.targets.has(m.sourceId) && m.trueTs >= o.from && m.trueTs < o.to);
    if (outage) {
      if (outage.replay) {
        (consent ? outage.consentBuffer : outage.buffer).push(m);
        this.heldByOutages += 1;
      } else {
        outage.lost += counted;
        this.lost += counted;
      }
      return;
    }
    const rng = consent ? this.consentStreams : this.streams;
    if (rng.loss.chance(delivery.lossRate)) {
      this.lost += counted;
      return;
    }
    let latency = delivery.latencyMedianMs > 0 ? rng.latency.logNormal(delivery.latencyMedianMs, delivery.latencySigma) : 0;
    if (rng.latency.chance(delivery.stallShare)) latency += rng.latency.uniform(0, delivery.stallMaxMs);
    const sendAt = Math.min(endMs, m.trueTs + Math.round(latency));
    this.add(this.behindReplays({ ...m, sendAt }, 0), 1, 0, this.ord++);
    if (rng.dup.chance(delivery.duplicateRate)) {
      this.duplicated += counted;
      const copy: SimMessage = { ...m, sendAt: Math.min(endMs, sendAt + Math.round(rng.dup.uniform(RESEND_MIN_MS, RESEND_MAX_MS))), duplicate: true };
      this.add(this.behindReplays(copy, 0), 1, 0, this.ord++);
    }
  }

  /** The messages nothing still to come can overtake, in the order they go on the wire. */
  *due(): Generator<SimMessage> {
    for (let top = this.heap.peek(); top !== undefined && top.message.sendAt < this.trueNow; top = this.heap.peek()) yield this.emit();
  }

  /** After the last message: every outage's replay, then everything left, in order. */
  *finish(): Generator<SimMessage> {
    this.endOutagesBy(Number.POSITIVE_INFINITY);
    while (this.heap.size > 0) yield this.emit();
  }

  /** What the delivery did (call after finish). */
  truth(): Omit<DeliveryTruth, 'interactions'> {
    return {
      lost: this.lost,
      duplicated: this.duplicated,
      reordered: this.reordered,
      replayed: this.replayed,
      maxDelayMs: this.maxDelayMs,
      clocks: this.params.clocks.truth(),
      outages: this.outages.map(({ targets: _t, buffer: _b, consentBuffer: _c, ...o }) => o),
    };
  }

  private add(message: SimMessage, tier: number, phase: number, ord: number): void {
    this.heap.push({ message, tier, phase, ord });
  }

  private emit(): SimMessage {
    const { message: m } = this.heap.pop() as Entry; // the callers saw an entry on top
    if (!isConsentMessage(m)) {
      // countReordered and the longest delay of deliverMessages, over the messages as they go out
      if (!m.duplicate) {
        const seen = this.latestBySource.get(m.sourceId);
        if (seen !== undefined && m.trueTs < seen) this.reordered += 1;
        else this.latestBySource.set(m.sourceId, m.trueTs);
      }
      if (!m.duplicate && !m.outage) this.maxDelayMs = Math.max(this.maxDelayMs, m.sendAt - m.trueTs);
    }
    return m;
  }

  /** Plans the replay of every outage that ended at or before `trueMs` (each holds all it will by then). */
  private endOutagesBy(trueMs: number): void {
    while (this.open.length > 0 && (this.outages[this.open[0] as number] as Held).to <= trueMs) this.endOutage(this.open.shift() as number);
  }

  /** deliverMessages' replay of outage k: its online status, the held messages from its end, and the queue behind them. */
  private endOutage(k: number): void {
    const { endMs } = this.params;
    const outage = this.outages[k] as Held;
    const replayAt = Math.min(outage.to, endMs);
    if (outage.agent !== undefined)
      for (const status of outageStatuses(outage, k, this.params)) if (status.payload.state === 'online') this.add(status, 0, k + 1, 1);
    const buffer = [...outage.buffer].sort((a, b) => a.trueTs - b.trueTs);
    const consents = [...outage.consentBuffer].sort((a, b) => a.trueTs - b.trueTs);
    let ord = 2; // after the will (0) and the online status (1)
    const replay = (m: SimMessage) => this.add(this.behindReplays(m, k + 1), 1, k + 1, ord++);
    let c = 0;
    buffer.forEach((m, i) => {
      const slot = Math.min(endMs, replayAt + i * REPLAY_GAP_MS);
      // a held consent goes out in its place in the queue: in the slot of the first message that truly came after it, just before it
      for (; c < consents.length && (consents[c] as SimMessage).trueTs < m.trueTs; c += 1) replay({ ...(consents[c] as SimMessage), sendAt: slot });
      replay({ ...m, sendAt: slot });
    });
    // the rest after the last replayed message, ahead of what queued behind the replay
    const tail = Math.min(endMs, replayAt + Math.max(0, buffer.length * REPLAY_GAP_MS - REPLAY_GAP_MS / 2));
    for (; c < consents.length; c += 1) replay({ ...(consents[c] as SimMessage), sendAt: tail });
    outage.replayed = buffer.length;
    this.replayed += buffer.length;
    if (buffer.length > 0) this.drainedAt[k] = Math.min(endMs, replayAt + buffer.length * REPLAY_GAP_MS);
    this.heldByOutages -= outage.buffer.length + outage.consentBuffer.length;
    outage.buffer.length = 0;
    outage.consentBuffer.length = 0;
  }

  /**
   * deliverMessages' queueBehindReplay: the agent's queue is FIFO, so what its sources make after an
   * outage ended goes out once the replay has drained. Applied as deliverMessages does, outage by
   * outage from `fromOutage` on (an outage's own replay is only queued behind the outages after it).
   */
  private behindReplays(message: SimMessage, fromOutage: number): SimMessage {
    let m = message;
    for (let k = fromOutage; k < this.outages.length; k += 1) {
      const drainedAt = this.drainedAt[k];
      if (drainedAt === undefined) continue;
      const outage = this.outages[k] as Held;
      if (m.kind !== 'status' && outage.targets.has(m.sourceId) && m.trueTs >= outage.to && m.sendAt < drainedAt) m = { ...m, sendAt: drainedAt };
    }
    return m;
  }
}
