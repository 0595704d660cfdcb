/**
 * The agent's retained `status` (pure): version, uptime, queue depth and bytes, clock state, and a
 * short `detail` (at most 256 characters, the contract's limit) with what needs a person first:
 * a refused remote config, an unsynchronised clock, sources not ok, shed messages, torn tails, backlog.
 */
import { maskMacAddresses, type StatusMessage } from '../../protocol/index.js';
import type { SourceHealth } from '../types.js';
import type { EdgeQueueStats } from '../queue/edge-queue.js';

export const MAX_DETAIL_CHARS = 256;
const MAX_SOURCE_DETAIL_CHARS = 40;

/** The outcome of the latest remote config, for the status. */
export type RemoteConfigState = { state: 'none' } | { state: 'applied'; rev: string | null } | { state: 'refused'; rev: string | null; detail: string };

export interface StatusInput {
  version: string;
  startedAt: number;
  now: number;
  queue: EdgeQueueStats;
  shedRawAbovePct: number;
  sources: SourceHealth[];
  clock: { synced: boolean; eventsBeforeSync: number };
  remoteConfig: RemoteConfigState;
}

export type AgentStatus = Omit<StatusMessage, 'mid'>;

/** The status to publish now. */
export function buildStatus(input: StatusInput): AgentStatus {
  const degraded =
    input.remoteConfig.state === 'refused' ||
    !input.clock.synced ||
    input.sources.some((s) => s.state === 'degraded' || s.state === 'down') ||
    input.queue.fillPct >= input.shedRawAbovePct;
  return {
    ts: input.now,
    state: degraded ? 'degraded' : 'online',
    version: input.version,
    uptime_s: Math.max(0, Math.round((input.now - input.startedAt) / 1000)),
    queue_depth: input.queue.depth,
    queue_bytes: input.queue.bytes,
    clock_synced: input.clock.synced,
    detail: statusDetail(input),
  };
}

/** `detail`: the parts in order of urgency, cut at 256 characters, MAC-shaped text masked. */
export function statusDetail(input: StatusInput): string {
  const parts: string[] = [];
  const cfg = input.remoteConfig;
  if (cfg.state === 'refused') parts.push(`config ${cfg.rev === null ? '' : `rev ${cfg.rev} `}refused: ${cfg.detail}`);
  if (!input.clock.synced) parts.push(`clock unsynced, ${input.clock.eventsBeforeSync} events stamped before sync`);
  else if (input.clock.eventsBeforeSync > 0) parts.push(`${input.clock.eventsBeforeSync} events stamped before clock sync`);
  if (input.sources.length > 0) {
    parts.push(
      `sources ${input.sources
        .map((s) => `${s.name}:${s.state}${s.state !== 'ok' && s.detail ? `(${s.detail.slice(0, MAX_SOURCE_DETAIL_CHARS)})` : ''}`)
        .join(',')}`,
    );
  }
  const shed = Object.entries(input.queue.counts.shed);
  if (shed.length > 0) parts.push(`shed ${shed.map(([key, n]) => `${key}=${n}`).join(',')}`);
  if (input.queue.counts.tornTails > 0) parts.push(`torn tails set aside ${input.queue.counts.tornTails}`);
  if (input.queue.depth > 0) {
    const ageS = input.queue.oldestQueuedAt === null ? 0 : Math.max(0, Math.round((input.now - input.queue.oldestQueuedAt) / 1000));
    parts.push(`queue ${input.queue.fillPct}% oldest ${formatAge(ageS)}`);
  }
  if (cfg.state === 'applied') parts.push(cfg.rev === null ? 'remote config applied' : `config rev ${cfg.rev}`);
  if (parts.length === 0) parts.push('ok');
  const text = maskMacAddresses(parts.join('; '));
  return text.length <= MAX_DETAIL_CHARS ? text : `${text.slice(0, MAX_DETAIL_CHARS - 1)}…`;
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}
