/**
 * The live counts: the server-sent events of GET /api/v1/live/stream (the session cookie goes with
 * them), or, where the stream is not available, GET /api/v1/live every 5 s.
 */
import { useEffect, useState } from 'preact/hooks';

import { apiGet, type LiveAnswer } from './api';

const POLL_MS = 5_000;

export function useLive(enabled: boolean): { live: LiveAnswer | null; via: 'stream' | 'polling' | 'none'; updatedAt: number | null } {
  const [state, setState] = useState<{ live: LiveAnswer | null; via: 'stream' | 'polling' | 'none'; updatedAt: number | null }>({
    live: null,
    via: 'none',
    updatedAt: null,
  });
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    const poll = () => {
      apiGet<LiveAnswer>('/api/v1/live').then(
        (live) => !stopped && setState({ live, via: 'polling', updatedAt: Date.now() }),
        () => undefined,
      );
    };
    const startPolling = () => {
      if (timer !== undefined || stopped) return;
      poll();
      timer = setInterval(poll, POLL_MS);
    };
    const source = new EventSource('/api/v1/live/stream');
    source.addEventListener('live', (event) => {
      if (stopped) return;
      setState({ live: JSON.parse((event as MessageEvent<string>).data) as LiveAnswer, via: 'stream', updatedAt: Date.now() });
    });
    // the gateway ends a stream whose session ended (logout, revoked, expired) or as it stops: poll
    // instead, which asks for a login again on a 401
    source.addEventListener('closed', () => {
      source.close();
      startPolling();
    });
    source.onerror = () => {
      // closed for good (no stream route, refused, or the session ended): poll instead; a 401 there logs out
      if (source.readyState === EventSource.CLOSED) startPolling();
    };
    return () => {
      stopped = true;
      source.close();
      if (timer !== undefined) clearInterval(timer);
    };
  }, [enabled]);
  return state;
}
