/**
 * The storeloop-under-attack scenario's report (bench/attack-scenario.ts runs it): figures per attacker,
 * counter deltas from /metrics, the checks that every attack met its control and that only honest
 * messages were logged, and the report's lines.
 */
import type { AttackKind } from './attack.js';
import { influxSink, ledgerLine, type LedgerSnapshot } from './gateway-api.js';
import type { AttackerResult } from './ipc.js';
import type { ProcessUsage } from './proc-stats.js';
import type { AttackerFigures, Check } from './scenario.js';
import { metricSum, type RunningGateway } from './servers.js';

const MB = 1024 * 1024;

export function attackerFiguresOf(result: AttackerResult, processes: ProcessUsage[]): AttackerFigures {
  const usage = processes.find((p) => p.name === `attacker ${result.attack}`);
  return {
    attack: result.attack,
    cpuPercent: usage?.cpu?.percentOfCore ?? Number.NaN,
    connections: result.connections,
    outcomes: result.outcomes,
    breaches: result.breaches,
    errors: result.errors,
  };
}

export function delta(before: string, after: string, name: string): number {
  return metricSum(after, name) - metricSum(before, name);
}

/** A counter's increase between two scrapes, per label set (`reason=…` or `action=…,reason=…`); zero rows left out. */
export function byLabel(before: string, after: string, name: string, labels: string[]): Record<string, number> {
  const rows = (text: string) => {
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/.exec(line);
      if (!match || match[1] !== name) continue;
      const values = labels.map((l) => new RegExp(`\\b${l}="([^"]*)"`).exec(match[2] ?? '')?.[1] ?? '?');
      out.set(values.join(' '), Number(match[3]));
    }
    return out;
  };
  const start = rows(before);
  const increase: Record<string, number> = {};
  for (const [key, value] of rows(after)) {
    const n = value - (start.get(key) ?? 0);
    if (n !== 0) increase[key] = n;
  }
  return increase;
}

/**
 * Every control the attacks aim at counted something: a silent counter would mean an attacker that
 * did not reach the gateway (a broken bench), not a strong gateway.
 */
export function controlsCheck(refused: Record<string, number>, denied: Record<string, number>, throttled: number, attackers: AttackerFigures[]): Check {
  const ran = new Set(attackers.map((a) => a.attack));
  const subscribed = attackers.find((a) => a.attack === 'slow-subscriber');
  const subscribedCount = Object.entries(subscribed?.outcomes ?? {}).reduce((n, [k, v]) => (k.startsWith('subscribed (SUBACK 1)') ? n + v : n), 0);
  const expected: Array<[AttackKind, string, number]> = [
    ['reconnect-storm', 'refused bad_credentials', refused['bad_credentials'] ?? 0],
    ['publish-flood', 'throttled', throttled],
    ['publish-flood', 'denied publish other_source', denied['publish other_source'] ?? 0],
    ['oversized-and-slowloris', 'refused packet_too_large', refused['packet_too_large'] ?? 0],
    ['oversized-and-slowloris', 'refused packet_timeout', refused['packet_timeout'] ?? 0],
    ['random-bytes', 'random-bytes connections closed', closedCount(attackers.find((a) => a.attack === 'random-bytes'))],
    ['slow-subscriber', 'slow subscriber subscribed', subscribedCount],
    ['connection-flood', 'refused too_many_connections_from_address', refused['too_many_connections_from_address'] ?? 0],
  ];
  const relevant = expected.filter(([attack]) => ran.has(attack));
  return {
    name: 'every attack reached the gateway and its control counted it',
    ok: relevant.every(([, , n]) => n > 0),
    detail: relevant.map(([, what, n]) => `${what} ${n}`).join(', '),
  };
}

export function closedCount(a: AttackerFigures | undefined): number {
  return Object.entries(a?.outcomes ?? {}).reduce((n, [k, v]) => (k.includes('closed by the gateway') ? n + v : n), 0);
}

/** Balanced, settled, and what was logged is exactly what the honest publishers had acked (the forged publishes were rejected). */
export function honestLedgerCheck(ledger: LedgerSnapshot, honestAcked: number): Check {
  const sink = influxSink(ledger);
  const logged = ledger.totals.states.logged;
  const ok = ledger.balanced && ledger.totals.states.held === 0 && sink.lag.records === 0 && logged === honestAcked && sink.ledger.delivered === logged;
  return {
    name: 'ledgers balanced, held = 0, logged = honest acked, all delivered to InfluxDB',
    ok,
    detail: `honest acked ${honestAcked} | ${ledgerLine(ledger)}`,
  };
}

export function limitsLine(gateway: RunningGateway): string {
  const l = gateway.config.mqtt.limits;
  return (
    `as shipped but the per-client rate: ${l.maxMessagesPerSecondPerClient} msg/s and ${(l.maxBytesPerSecondPerClient / MB).toFixed(0)} MiB/s per client ` +
    `(throttled beyond, disconnected past ${l.maxThrottleDelayMs} ms of delay); connections ${l.maxConnections} in total, ${l.maxConnectionsPerAddress} per address, ` +
    `${l.maxConnectionsPerStore} per store; CONNECT within ${l.connectTimeoutMs} ms, a packet whole within ${l.packetTimeoutMs} ms; ` +
    `payload ≤ ${gateway.config.mqtt.maxPayloadBytes} bytes; ${l.maxQueuedPerSession} queued per session`
  );
}

export function recordLine(record: Record<string, number>): string {
  const entries = Object.entries(record);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k} ${v}`).join(', ');
}

export function attackerLine(a: AttackerFigures): string {
  const errors = a.errors.length > 0 ? `; errors: ${a.errors.join('; ')}` : '';
  return `CPU ${a.cpuPercent.toFixed(0)} % of one core; ${a.connections} connections; ${recordLine(a.outcomes)}${errors}`;
}
