/**
 * Persistent sessions (clean = false), capped and expiring. MQTT 3.1.1 keeps a session from its
 * CONNECT until a clean = true CONNECT with the same client id [MQTT-3.1.2-4], [MQTT-3.1.2-6]: a
 * client that subscribes and goes away would hold its subscriptions, queue and will for ever. Here:
 * - a CONNECT that would create one session more than `maxSessions` is refused; a client whose session
 *   is kept is always let back in, whatever the count;
 * - a session whose client has been away longer than `expiryMs` is removed whole, at start and on a
 *   timer (as mosquitto's persistent_client_expiration does).
 *
 * The sessions and when each client was last seen are kept in memory and recorded in the broker's
 * persistence (SessionRecords), so with SQLite the clock of an away client survives a restart.
 */
import type { Logger } from '../../lib/logger.js';
import { maskClientId } from '../ingest/redact.js';
import type { SessionRecords } from './persistence/index.js';

export interface SessionLimitsOptions {
  /** Persistent sessions kept at most, connected or away. */
  maxSessions: number;
  /** A session whose client has been away this long is removed. */
  expiryMs: number;
  /** How often away sessions are checked; default a tenth of expiryMs, between 1 s and 1 h. */
  checkIntervalMs?: number;
  /** The wall clock (epoch ms) last-seen times are taken from. */
  now?: () => number;
}

export type SessionVerdict = 'admitted' | 'too_many_sessions';

/** Expired sessions logged one by one per check; the rest are summed up in one line. */
const EXPIRY_LOG_LINES = 100;

export class SessionLimits {
  /** Client id → when its client was last seen (ms); a connected client's time is refreshed at every check. */
  private readonly sessions = new Map<string, number>();
  /** Sessions being removed: a CONNECT with the same client id waits for the removal to finish. */
  private readonly dropping = new Map<string, Promise<void>>();
  private store: SessionRecords | undefined;
  private isConnected: (clientId: string) => boolean = () => false;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<number> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly options: SessionLimitsOptions,
    private readonly log: Logger,
    private readonly onExpired: () => void = () => undefined,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Persistent sessions kept now, connected or away. */
  get size(): number {
    return this.sessions.size;
  }

  /** Loads the stored sessions, removes those expired meanwhile and starts the periodic check. */
  async start(store: SessionRecords, isConnected: (clientId: string) => boolean): Promise<void> {
    this.store = store;
    this.isConnected = isConnected;
    this.sessions.clear();
    for (const [clientId, seenMs] of await store.loadSessions(this.now())) this.sessions.set(clientId, seenMs);
    await this.expire();
    const every = this.options.checkIntervalMs ?? Math.min(3_600_000, Math.max(1_000, Math.floor(this.options.expiryMs / 10)));
    this.timer = setInterval(() => {
      this.expire().catch((err: unknown) => this.log.error({ err }, 'persistent sessions could not be checked for expiry'));
    }, every);
    this.timer.unref();
  }

  /** Stops the periodic check and waits for a check under way; the store stays the caller's. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.checking?.catch(() => undefined);
    await Promise.all(this.dropping.values());
  }

  /**
   * Decides a CONNECT (after authentication). clean = false: a kept session comes back; a new one is
   * made when there is room. clean = true: the previous session, if any, ends [MQTT-3.1.2-6].
   */
  async admit(clientId: string, clean: boolean): Promise<SessionVerdict> {
    const store = this.requireStore();
    await this.dropping.get(clientId);
    if (clean) {
      if (this.sessions.delete(clientId)) await store.forgetSession(clientId);
      return 'admitted';
    }
    if (!this.sessions.has(clientId) && this.sessions.size >= this.options.maxSessions) return 'too_many_sessions';
    const seenMs = this.now();
    this.sessions.set(clientId, seenMs); // before the write: a concurrent CONNECT sees the place taken
    await store.recordSessions([[clientId, seenMs]]);
    return 'admitted';
  }

  /** A client disconnected: from now on its session, if it has one, is away. */
  left(clientId: string, clean: boolean): void {
    if (clean || !this.sessions.has(clientId)) return;
    const seenMs = this.now();
    this.sessions.set(clientId, seenMs);
    this.requireStore()
      .recordSessions([[clientId, seenMs]])
      .catch((err: unknown) => this.log.warn({ err, clientId: maskClientId(clientId) }, 'when a persistent session left could not be recorded'));
  }

  /** Removes every session whose client has been away longer than expiryMs; answers how many. */
  expire(): Promise<number> {
    this.checking ??= this.check().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async check(): Promise<number> {
    const store = this.requireStore();
    const now = this.now();
    const cutoff = now - this.options.expiryMs;
    const connected: Array<[string, number]> = [];
    const expired: Array<[string, number]> = [];
    for (const [clientId, seenMs] of this.sessions) {
      if (this.isConnected(clientId)) connected.push([clientId, now]);
      else if (seenMs <= cutoff) expired.push([clientId, seenMs]);
    }
    // a connected client is seen now: after a crash, its session is away since the last check at most
    for (const [clientId] of connected) this.sessions.set(clientId, now);
    await store.recordSessions(connected);
    let removed = 0;
    for (const [clientId, seenMs] of expired) {
      this.sessions.delete(clientId);
      const drop = store.dropSession(clientId).finally(() => this.dropping.delete(clientId));
      this.dropping.set(clientId, drop);
      try {
        await drop;
      } catch (err) {
        this.sessions.set(clientId, seenMs); // still stored: the next check tries again
        this.log.warn({ err, clientId: maskClientId(clientId) }, 'an expired persistent session could not be removed');
        continue;
      }
      removed += 1;
      this.onExpired();
      if (removed <= EXPIRY_LOG_LINES) {
        this.log.info(
          { clientId: maskClientId(clientId), awaySeconds: Math.round((now - seenMs) / 1000) },
          'persistent session expired: its client was away longer than mqtt.limits.sessionExpirySeconds; subscriptions, queued packets and will removed',
        );
      }
    }
    if (removed > EXPIRY_LOG_LINES) {
      this.log.info({ expired: removed, logged: EXPIRY_LOG_LINES }, 'persistent sessions expired (the others not logged one by one)');
    }
    return removed;
  }

  private requireStore(): SessionRecords {
    if (this.store === undefined) throw new Error('SessionLimits used before start()');
    return this.store;
  }
}
