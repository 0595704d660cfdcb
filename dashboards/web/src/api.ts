/**
 * The gateway's HTTP API as the pages use it: same origin, the session cookie of the login (no token
 * in script), JSON answers. The types are the parts of the answers the pages read (the OpenAPI
 * document at /openapi.json has them whole).
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Called on any 401: the session ended (logged out, token revoked or expired). */
let onUnauthenticated: () => void = () => undefined;
export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

export async function apiGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  if (res.status === 401) onUnauthenticated();
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string; code?: string };
    throw new ApiError(res.status, body.error ?? `HTTP ${res.status} from ${path}`, body.code);
  }
  return (await res.json()) as T;
}

export interface Session {
  name: string;
  scopes: string[];
  expiresAt: string | null;
}

export async function login(token: string): Promise<Session> {
  const res = await fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  const body = (await res.json().catch(() => ({}))) as Session & { error?: string };
  if (res.status !== 201) throw new ApiError(res.status, body.error ?? `login failed (HTTP ${res.status})`);
  return body;
}

export async function logout(): Promise<void> {
  await fetch('/api/v1/session', { method: 'DELETE' }).catch(() => undefined);
}

/** The session this browser has, or null when it has none. */
export async function currentSession(): Promise<Session | null> {
  const res = await fetch('/api/v1/session');
  return res.ok ? ((await res.json()) as Session) : null;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Store {
  id: string;
  name?: string;
  timezone: string;
  zones: { id: string; name?: string; kind?: string }[];
  sensors: { id: string; type: string; zone?: string }[];
  touchpoints: { id: string; type: string; zone?: string; name?: string }[];
  devices: { id: string; type: string; zone?: string; name?: string }[];
  agents: { id: string }[];
  layout?: {
    widthM: number;
    depthM: number;
    zones: Record<string, { rect: Rect }>;
    sensors: Record<string, { x: number; y: number }>;
    touchpoints?: Record<string, { x: number; y: number }>;
    doors?: { x: number; y: number; zone: string; name?: string }[];
  };
}

export const storesPath = '/api/v1/stores';

export interface LiveStore {
  store: string;
  name: string | null;
  devicesNow: number;
  devicesCapped: boolean;
  zones: { id: string; name: string | null; devicesNow: number }[];
  footfall: { in: number; out: number };
  interactionsLastHour: { touchpoint: string; count: number }[];
  lastMessageAt: string | null;
  agents: { id: string; state: string; since: string }[];
}

export interface LiveAnswer {
  stores: LiveStore[];
  /** Set while the demo's backfill fills older history in the background. */
  history?: { from: string; to: string; reached: string; done: boolean } | null;
}

export type FieldValues = Record<string, number | null>;

export interface MetricSeries {
  measurement: string;
  labels: Record<string, string>;
  definition: string | null;
  params: string[];
  total: FieldValues;
  points: { time: string; values: FieldValues }[];
}

export interface MetricAnswer {
  store: string;
  metric: string;
  definition: string;
  from: string;
  to: string;
  interval: string;
  intervalMs: number;
  fields: { name: string; description: string }[];
  series: MetricSeries[];
}

export interface MetricQuery {
  metric: string;
  fromMs: number;
  toMs: number;
  interval: string;
  zone?: string;
  touchpoint?: string;
}

export function metricPath(store: string, q: MetricQuery): string {
  const params = new URLSearchParams({ metric: q.metric, from: new Date(q.fromMs).toISOString(), to: new Date(q.toMs).toISOString(), interval: q.interval });
  if (q.zone) params.set('zone', q.zone);
  if (q.touchpoint) params.set('touchpoint', q.touchpoint);
  return `/api/v1/stores/${encodeURIComponent(store)}/metrics?${params.toString()}`;
}

export function zoneName(store: Store, id: string): string {
  return store.zones.find((z) => z.id === id)?.name ?? id;
}

export function touchpointName(store: Store, id: string): string {
  return store.touchpoints.find((t) => t.id === id)?.name ?? id;
}

export interface DevicesAnswer {
  store: string;
  at: string;
  onlineWindowSeconds: number;
  agents: {
    id: string;
    zone: string | null;
    state: 'online' | 'offline' | 'degraded' | null;
    since: string | null;
    lastMessageAt: string | null;
    online: boolean;
    version: string | null;
    detail: string | null;
    queue: { depth: number; bytes: number | null; at: string } | null;
  }[];
  devices: {
    id: string;
    role: 'sensor' | 'touchpoint' | 'device';
    type: string | null;
    zone: string | null;
    zoneName: string | null;
    name: string | null;
    lastSeenAt: string | null;
    online: boolean;
    status: { state: string; since: string; detail: string | null } | null;
    battery: { pct: { value: number; at: string } | null; mv: { value: number; at: string } | null };
  }[];
}

export interface PipelineAnswer {
  at: string;
  ingest: {
    sampledSince: string;
    perMinute: { minute: string; accepted: number; rejected: number }[];
    totals: { received: number; accepted: number; rejected: number; duplicate: number; shed: number };
  };
  rejections: { reason: string; count: number; description: string | null }[];
  log: {
    records: number;
    bytes: number;
    quotaBytes: number;
    segments: number;
    full: boolean;
    oldest: { seq: number; appendedAt: string } | null;
    newest: { seq: number; appendedAt: string } | null;
  };
  sinks: {
    name: string;
    state: 'ok' | 'failing' | 'idle' | 'stopped';
    holdsBackIngest: boolean;
    lag: { records: number; seconds: number };
    delivered: number;
    deadLettered: number;
    expired: number;
  }[];
  deadLetters: number;
}
