/**
 * Browser sessions of the live page and dashboards: a token login (POST /api/v1/session) gives a random
 * session id, sent back as an HttpOnly cookie, so the page's requests (polling, server-sent events)
 * need no token in script. Kept in memory only: a restart logs every browser out. A session stands for
 * its token: the HTTP layer checks the token again on each request, so revoking or expiring the token
 * ends its sessions at once.
 */
import { randomBytes } from 'node:crypto';

export interface WebSession {
  tokenId: string;
  expiresAtMs: number;
}

/** Sessions kept at most: past it, the oldest is dropped (logins are rate limited per address too). */
const MAX_SESSIONS = 10_000;

export class WebSessions {
  private readonly sessions = new Map<string, WebSession>();

  constructor(private readonly ttlMs: number) {}

  /** A new session for an authenticated token; it ends after the TTL or when the token expires, whichever is first. */
  create(tokenId: string, tokenExpiresAt: Date | null, now = Date.now()): { id: string; expiresAt: Date } {
    this.prune(now);
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const expiresAtMs = Math.min(now + this.ttlMs, tokenExpiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
    this.sessions.set(id, { tokenId, expiresAtMs });
    return { id, expiresAt: new Date(expiresAtMs) };
  }

  /** The live session with this id, or undefined (unknown, ended, or expired: then it is forgotten). */
  get(id: string, now = Date.now()): WebSession | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAtMs <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** Ends a session (logout, or its token found revoked). */
  end(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private prune(now: number): void {
    for (const [id, session] of this.sessions) if (session.expiresAtMs <= now) this.sessions.delete(id);
  }
}
