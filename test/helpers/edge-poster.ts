/**
 * A store's kiosks and devices as the proofs need them: POSTs touchpoint and device events to the
 * agent's ingress at a steady rate, and keeps its own log of the events the ingress acknowledged
 * (2xx, with the mid it answered). Each touchpoint carries a unique `label` and each event a unique
 * `ts` per source, so InfluxDB shows which acknowledged events arrived, how often and with which time.
 */
export const DEMO_TOUCHPOINTS = ['kiosk-1', 'mirror-1', 'qr-shoes', 'feedback-1'] as const;
export const DEMO_DEVICES = ['counter-door', 'shelf-shoes', 'env-floor'] as const;

export interface PostedEvent {
  kind: 'touchpoint' | 'device';
  sourceId: string;
  /** Unique per event: the touchpoint label, or `<device>@<ts>`. */
  key: string;
  ts: number;
  mid: string;
}

export class IngressPoster {
  readonly acknowledged: PostedEvent[] = [];
  /** Answers other than 2xx (agent down, shed), by status (0: no answer). */
  readonly refused = new Map<number, number>();
  private n = 0;
  private lastTs = 0;
  private running: Promise<void> | undefined;
  private stopping = false;
  private url: string;

  constructor(
    url: string,
    private readonly prefix = 'ev',
  ) {
    this.url = url;
  }

  /** Points the poster at another ingress URL (the agent restarted on another port). */
  retarget(url: string): void {
    this.url = url;
  }

  /** Posts one event now; answers the HTTP status (0 when the agent did not answer). */
  async postOne(): Promise<number> {
    const i = this.n++;
    // one event per millisecond at most, as real sources send: every event keeps a unique time
    const ts = Math.max(Date.now(), this.lastTs + 1);
    this.lastTs = ts;
    const isDevice = i % 4 === 3;
    const sourceId = isDevice ? (DEMO_DEVICES[i % DEMO_DEVICES.length] as string) : (DEMO_TOUCHPOINTS[i % DEMO_TOUCHPOINTS.length] as string);
    const label = `${this.prefix}-${i}`;
    const body = isDevice ? deviceEvent(sourceId, ts, i) : { ts, action: 'tap', label };
    const kind = isDevice ? 'device' : 'touchpoint';
    let status = 0;
    try {
      const res = await fetch(`${this.url}/v1/${kind}/${sourceId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      status = res.status;
      const answer = (await res.json()) as { mid?: string };
      if (res.ok && answer.mid !== undefined) this.acknowledged.push({ kind, sourceId, key: isDevice ? `${sourceId}@${ts}` : label, ts, mid: answer.mid });
    } catch {
      status = 0; // the agent is down or was killed mid-request: not acknowledged
    }
    if (status < 200 || status >= 300) this.refused.set(status, (this.refused.get(status) ?? 0) + 1);
    return status;
  }

  /** Posts one event every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        const started = Date.now();
        await this.postOne();
        await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  get posted(): number {
    return this.n;
  }
}

function deviceEvent(sourceId: string, ts: number, i: number): Record<string, unknown> {
  if (sourceId === 'counter-door') return { ts, event: { type: 'people_count', in: (i % 3) + 1, out: i % 2 } };
  if (sourceId === 'shelf-shoes') return { ts, event: { type: 'shelf', action: i % 2 === 0 ? 'pick_up' : 'put_back', sku: `SKU-${i % 50}` } };
  return { ts, event: { type: 'environment', temperature_c: 20 + (i % 5), humidity_pct: 40 } };
}
