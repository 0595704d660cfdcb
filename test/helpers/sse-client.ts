/**
 * A server-sent events client on fetch(): opens a stream and hands out its events as they arrive,
 * comments included, so a test can wait for the next event of a name (or for the end of the stream)
 * with a deadline instead of sleeping.
 */
export interface SseEvent {
  /** `message` when the event named none; `comment` for a `: …` line. */
  event: string;
  data: string;
  /** When it arrived (Date.now()). */
  at: number;
}

export interface SseStream {
  response: Response;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** The next event named `name` not yet taken, waiting up to `timeoutMs`. */
  next(name: string, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves once the server ended the stream (or it broke), with how it ended. */
  ended: Promise<'ended' | 'broken'>;
  close(): void;
}

/** GET `url` as an event stream; fails when the answer is not 200 text/event-stream (with its body). */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (response.status !== 200 || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || response.body === null) {
    throw new Error(`GET ${url}: ${response.status} ${response.headers.get('content-type')}: ${await response.text()}`);
  }
  const events: SseEvent[] = [];
  const taken = new Set<SseEvent>();
  let wake: (() => void) | undefined;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const ended = (async (): Promise<'ended' | 'broken'> => {
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'ended';
        buffer += decoder.decode(value, { stream: true });
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          events.push(parseBlock(block));
          cut = buffer.indexOf('\n\n');
        }
        wake?.();
      }
    } catch {
      return 'broken';
    } finally {
      wake?.();
    }
  })();
  let finished = false;
  void ended.then(() => (finished = true));
  const next = async (name: string, timeoutMs = 10_000): Promise<SseEvent> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find((e) => e.event === name && !taken.has(e));
      if (found) {
        taken.add(found);
        return found;
      }
      if (finished) throw new Error(`the stream ended before an event '${name}' (events: ${events.map((e) => e.event).join(', ')})`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no event '${name}' within ${timeoutMs} ms (events: ${events.map((e) => e.event).join(', ')})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  return { response, events, next, ended, close: () => abort.abort() };
}

function parseBlock(block: string): SseEvent {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) return { event: 'comment', data: line.slice(1).trim(), at: Date.now() };
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry') event = 'retry';
  }
  return { event, data: data.join('\n'), at: Date.now() };
}
