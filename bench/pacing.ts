/**
 * When a publisher sends its next message. Closed-loop keeps a fixed window of unacknowledged
 * publishes (a new one per PUBACK), so a slow server slows the sender down and hides its own delay
 * (coordinated omission). Open-loop sends on a fixed schedule that ignores acknowledgements, and
 * every latency is taken from the message's scheduled send time, so a stalled server shows up as
 * latency of every message that was due while it stalled.
 */
import { z } from 'zod';

export const PacingSpecSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('closed-loop'), inflight: z.number().int().min(1).max(65_000) }),
  z.object({
    mode: z.literal('open-loop'),
    /** This publisher's share of the total rate, messages/s. */
    ratePerSecond: z.number().positive(),
    /** Offset of this publisher's schedule, as a fraction of its interval, so publishers interleave. */
    phase: z.number().min(0).max(1),
    /** Unacknowledged publishes at most; due messages wait (and count as late) while it is reached. */
    maxInflight: z.number().int().min(1).max(65_000),
  }),
]);
export type PacingSpec = z.infer<typeof PacingSpecSchema>;

/** What a pacing drives: one MQTT connection that publishes and counts what is in flight. */
export interface PacedSender {
  readonly inflight: number;
  readonly connected: boolean;
  /** Publishes one message; its latency is measured from `scheduledAtMs` (epoch ms, sub-ms precision). */
  send(scheduledAtMs: number): void;
}

export interface Pacing {
  start(): void;
  /** Stops sending; returns the scheduled send times of the messages that were due but not sent (open-loop). */
  stop(): number[];
  /** Called after every PUBACK or failed publish, so a pacing waiting for room can go on. */
  onSettled(): void;
}

/** Epoch ms with sub-millisecond precision, the clock every pacing and latency uses. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Keeps `inflight` publishes unacknowledged: a new one for each that settles. */
export class ClosedLoopPacing implements Pacing {
  private running = false;

  constructor(
    private readonly sender: PacedSender,
    private readonly inflight: number,
  ) {}

  start(): void {
    this.running = true;
    this.pump();
  }

  stop(): number[] {
    this.running = false;
    return [];
  }

  onSettled(): void {
    this.pump();
  }

  private pump(): void {
    while (this.running && this.sender.connected && this.sender.inflight < this.inflight) this.sender.send(nowMs());
  }
}

/** Scheduled send time (epoch ms) of message `n` of a schedule starting at `startMs`. */
export function scheduledSendMs(startMs: number, intervalMs: number, phase: number, n: number): number {
  return startMs + (n + phase) * intervalMs;
}

/** Due messages sent in one turn of the event loop at most, so PUBACKs are read in between. */
const MAX_BURST = 256;

/**
 * Sends message n at `scheduledSendMs(start, 1000 / rate, phase, n)`, whatever the acknowledgements
 * do. Messages that fall behind (timer lateness, a full in-flight cap) are sent as soon as possible
 * and still measured from their scheduled time.
 */
export class OpenLoopPacing implements Pacing {
  private readonly intervalMs: number;
  private next = 0;
  private running = false;
  private waitingForRoom = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sender: PacedSender,
    private readonly spec: Extract<PacingSpec, { mode: 'open-loop' }>,
    private readonly startMs: number,
  ) {
    this.intervalMs = 1000 / spec.ratePerSecond;
  }

  start(): void {
    this.running = true;
    this.tick();
  }

  stop(): number[] {
    this.running = false;
    clearTimeout(this.timer);
    const endMs = nowMs();
    const unsent: number[] = [];
    for (let n = this.next; this.due(n) <= endMs; n++) unsent.push(this.due(n));
    return unsent;
  }

  onSettled(): void {
    if (this.waitingForRoom) this.tick();
  }

  private due(n: number): number {
    return scheduledSendMs(this.startMs, this.intervalMs, this.spec.phase, n);
  }

  private tick(): void {
    this.waitingForRoom = false;
    clearTimeout(this.timer);
    if (!this.running) return;
    const now = nowMs();
    for (let burst = 0; burst < MAX_BURST && this.due(this.next) <= now; burst++) {
      if (!this.sender.connected) return;
      if (this.sender.inflight >= this.spec.maxInflight) {
        this.waitingForRoom = true; // onSettled() resumes
        return;
      }
      this.sender.send(this.due(this.next));
      this.next++;
    }
    const waitMs = this.due(this.next) - nowMs();
    // a full burst with more already due: yield to read PUBACKs, then go on at once (a stale
    // immediate after stop() finds running false)
    if (waitMs <= 0) setImmediate(() => this.tick());
    else this.timer = setTimeout(() => this.tick(), Math.max(1, Math.floor(waitMs)));
  }
}

/** The pacing `spec` asks for, driving `sender`, with the schedule (open-loop) starting at `startMs`. */
export function createPacing(spec: PacingSpec, sender: PacedSender, startMs: number): Pacing {
  return spec.mode === 'closed-loop' ? new ClosedLoopPacing(sender, spec.inflight) : new OpenLoopPacing(sender, spec, startMs);
}
