/**
 * What every attack of the storeloop-under-attack scenario shares (bench/attacks.ts has the attacks,
 * bench/attacker.ts runs one in its own process): the attacker's spec, counters by outcome, errors,
 * a rate limiter for new connections and the sockets it opened.
 */
import { connect, type Socket } from 'node:net';

import { z } from 'zod';

import { MAX_REPORTED_ERRORS, type AttackerResult } from './ipc.js';

export const ATTACKS = ['reconnect-storm', 'publish-flood', 'oversized-and-slowloris', 'random-bytes', 'slow-subscriber', 'connection-flood'] as const;
export type AttackKind = (typeof ATTACKS)[number];

const LoginSchema = z.object({ username: z.string(), password: z.string() });
export type AttackerLogin = z.infer<typeof LoginSchema>;

export const AttackerSpecSchema = z.object({
  attack: z.enum(ATTACKS),
  host: z.string(),
  port: z.number().int().min(1).max(65_535),
  /** Loopback addresses the attacker's connections come from (each its own "device on the store network"). */
  localAddresses: z.array(z.string()).min(1),
  /** New connections (or, publish-flood, messages) a second. */
  ratePerSecond: z.number().positive(),
  /** Connections open at once, at most (connection-flood: per address). */
  maxConnections: z.number().int().min(1),
  /** The attacker's own valid identity (publish-flood, oversized-and-slowloris, slow-subscriber). */
  login: LoginSchema.optional(),
  /** reconnect-storm: an existing identity whose secret it guesses. */
  victimName: z.string().optional(),
  /** publish-flood: the topic it forges and the payload it sends there. */
  forged: z.object({ topic: z.string(), payload: z.string() }).optional(),
  /** slow-subscriber: the filter it subscribes to. */
  filter: z.string().optional(),
  /** oversized-and-slowloris: connections left with a half-sent packet, held at once. */
  slowlorisConnections: z.number().int().min(0).default(0),
  seed: z.number().int().default(1),
});
export type AttackerSpec = z.infer<typeof AttackerSpecSchema>;

const TICK_MS = 10;
/** A connection the gateway should close that is still open after this is counted as such and dropped. */
const ANSWER_TIMEOUT_MS = 15_000;

/** What every attack shares: counters by outcome, errors, and a rate limiter for new connections. */
export abstract class Attack {
  protected connections = 0;
  protected breaches = 0;
  protected readonly outcomes = new Map<string, number>();
  protected readonly sockets = new Set<Socket>();
  protected stopping = false;
  private errorCount = 0;
  private readonly errors: string[] = [];
  private launched = 0;
  private ticker: NodeJS.Timeout | undefined;
  private serial = 0;

  constructor(protected readonly spec: AttackerSpec) {}

  /** Starts the attack; it runs until stop(). */
  start(): void {
    const startedMs = performance.now();
    this.ticker = setInterval(() => {
      const due = Math.floor(((performance.now() - startedMs) / 1000) * this.spec.ratePerSecond);
      this.tick(due - this.launched, (n) => (this.launched += n));
    }, TICK_MS);
  }

  /** Every TICK_MS: `owed` new connections (or messages) are due; `took(n)` says how many were started. */
  protected tick(owed: number, took: (n: number) => void): void {
    let n = 0;
    while (n < owed && this.canOpen()) {
      this.launch();
      n++;
    }
    // what a full connection budget held back is dropped, not saved up: the rate is a ceiling
    took(owed);
  }

  protected canOpen(): boolean {
    return this.sockets.size < this.spec.maxConnections;
  }

  /** Opens one more connection (rate and count permitting). */
  protected launch(): void {}

  stop(): AttackerResult {
    this.stopping = true;
    clearInterval(this.ticker);
    this.onStop();
    for (const socket of this.sockets) socket.destroy();
    return {
      attack: this.spec.attack,
      connections: this.connections,
      outcomes: Object.fromEntries(this.outcomes),
      breaches: this.breaches,
      errorCount: this.errorCount,
      errors: this.errors,
    };
  }

  protected onStop(): void {}

  /** Events worth reporting live (the progress bar shows nothing of attackers; this is for `ready`/debugging). */
  get total(): number {
    return this.connections;
  }

  protected count(outcome: string, n = 1): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + n);
  }

  protected noteError(message: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_REPORTED_ERRORS && !this.errors.includes(message)) this.errors.push(message);
  }

  protected nextId(prefix: string): string {
    this.serial++;
    return `${prefix}-${process.pid}-${this.serial}`;
  }

  /** A socket from `localAddress` (default: the attacker's addresses in turn), tracked until it closes. */
  protected open(localAddress = this.spec.localAddresses[this.serial % this.spec.localAddresses.length] as string): Socket {
    const socket = connect({ host: this.spec.host, port: this.spec.port, localAddress, noDelay: true });
    this.sockets.add(socket);
    socket.once('connect', () => this.connections++);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // a reset or refusal by the gateway is one of the answers under test, not an attacker failure
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') this.noteError(err.message);
    });
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }

  /** Resolves `onClosed(ms)` when the gateway closes the socket, or counts it as left open after ANSWER_TIMEOUT_MS. */
  protected expectClose(socket: Socket, label: string, onClosed?: (ms: number) => void): void {
    const openedMs = performance.now();
    const timer = setTimeout(() => {
      this.count(`${label}: still open after ${ANSWER_TIMEOUT_MS / 1000} s`);
      socket.destroy();
    }, ANSWER_TIMEOUT_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      if (this.stopping) return;
      const ms = performance.now() - openedMs;
      if (ms < ANSWER_TIMEOUT_MS) onClosed?.(ms);
    });
  }
}
