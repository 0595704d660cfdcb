/**
 * The benchmark's scenarios, run one after the other in this order, the names that select several
 * at once, and the comparisons the report prints as ratios. Adding a gateway variant is one more
 * `storeloopScenario({ id, title, gatewayEnv })`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { underAttackScenario } from './attack-scenario.js';
import { idleDevicesScenario } from './idle-devices-scenario.js';
import { influxRawScenario } from './influx-raw-scenario.js';
import { mosquittoScenario } from './mosquitto-scenario.js';
import { RATE_REFERENCE_SCENARIO } from './open-loop.js';
import { storeloopOutageScenario } from './outage-scenario.js';
import type { Scenario } from './scenario.js';
import { storeloopScenario } from './storeloop-scenario.js';

/** Storeloop as shipped: validation, then PUBACK once the message is in the fsynced event log; the InfluxDB sink writes it afterwards. */
export const storeloopDurable = storeloopScenario({
  id: 'storeloop-durable',
  title: "storeloop-durable: validate, PUBACK after the event log's fsynced append",
});

/** The same gateway acknowledging without waiting: the reference for what durability costs. */
export const storeloopImmediate = storeloopScenario({
  id: 'storeloop-immediate',
  title: 'storeloop-immediate: validate, PUBACK at once, before the log append (STORELOOP_ACK_MODE=immediate, bench only)',
  gatewayEnv: { STORELOOP_ACK_MODE: 'immediate' },
});

/** InfluxDB down: PUBACKs from the log as always while the InfluxDB sink falls behind, then its drain. */
export const storeloopOutage = storeloopOutageScenario({
  id: 'storeloop-outage',
  title: 'storeloop-outage: InfluxDB down, PUBACK from the log while the InfluxDB sink falls behind; then influxd restarted and the sink caught up',
});

/** The closed-loop reference; its measured rate also sets the open-loop rate. */
export const mosquittoClosedLoop = mosquittoScenario({
  id: RATE_REFERENCE_SCENARIO,
  title: 'mosquitto (reference: no validation, no database)',
  pacing: 'closed-loop',
});

/** The gateway as shipped at a fixed rate: PUBACK latency without coordinated omission. */
export const storeloopOpenLoop = storeloopScenario({
  id: 'storeloop-open-loop',
  title: "storeloop-open-loop: the gateway as shipped at a fixed rate (half of mosquitto's measured rate unless --rate)",
  pacing: 'open-loop',
});

export const mosquittoOpenLoop = mosquittoScenario({
  id: 'mosquitto-open-loop',
  title: 'mosquitto-open-loop (reference: the same fixed rate)',
  pacing: 'open-loop',
});

export const idleDevices = idleDevicesScenario({
  id: 'idle-devices',
  title: 'idle-devices: idle MQTT connections held on the gateway through a keepalive period',
  role: 'subject',
  server: 'storeloop',
});

export const idleDevicesMosquitto = idleDevicesScenario({
  id: 'idle-devices-mosquitto',
  title: 'idle-devices-mosquitto (reference: the same idle connections on mosquitto)',
  role: 'reference',
  server: 'mosquitto',
});

/** Honest publishers at a fixed rate, alone and then beside six attacker processes (issue #10). */
export const storeloopUnderAttack = underAttackScenario({
  id: 'storeloop-under-attack',
  title:
    'storeloop-under-attack: honest publishers at a fixed rate, alone, then beside a reconnect storm, a publish flood, oversized and half-sent packets, random bytes, a subscriber that never reads and a connection flood',
});

/**
 * Run order: the closed-loop storeloop variants, the closed-loop reference (whose rate the open-loop
 * pair uses), the open-loop pair, the storage limit, the idle pair, the attack run.
 */
export const SCENARIOS: Scenario[] = [
  storeloopDurable,
  storeloopImmediate,
  storeloopOutage,
  mosquittoClosedLoop,
  storeloopOpenLoop,
  mosquittoOpenLoop,
  influxRawScenario,
  idleDevices,
  idleDevicesMosquitto,
  storeloopUnderAttack,
];

/** Names --scenarios accepts besides the ids, each standing for several scenarios (or a shorter id). */
export const SCENARIO_GROUPS: Record<string, string[]> = {
  /** The gateway as shipped (so `--scenarios storeloop,mosquitto` compares it with the reference). */
  storeloop: ['storeloop-durable'],
  'open-loop': ['storeloop-open-loop', 'mosquitto-open-loop'],
  idle: ['idle-devices', 'idle-devices-mosquitto'],
  attack: ['storeloop-under-attack'],
};

/** A ratio column of the report: `subject` divided by `baseline`, when both ran; both of one kind. */
export interface Comparison {
  label: string;
  subject: string;
  baseline: string;
  /** What the ratio measures, for the line under the table. */
  meaning: string;
}

export const COMPARISONS: Comparison[] = [
  {
    label: 'durable/immediate',
    subject: 'storeloop-durable',
    baseline: 'storeloop-immediate',
    meaning: 'what the fsynced log append before the PUBACK costs: the price of durability',
  },
  {
    label: 'outage/durable',
    subject: 'storeloop-outage',
    baseline: 'storeloop-durable',
    meaning:
      'the same PUBACK path with the InfluxDB sink stalled: influxd is stopped and no sampler polls it, which on a small machine also leaves their CPU to the gateway',
  },
  {
    label: 'storeloop/mosquitto',
    subject: 'storeloop-durable',
    baseline: 'mosquitto',
    meaning: 'validation plus the durable ack, against a broker that neither validates nor persists and PUBACKs on receipt',
  },
  {
    label: 'open-loop storeloop/mosquitto',
    subject: 'storeloop-open-loop',
    baseline: 'mosquitto-open-loop',
    meaning: "the same fixed rate on both; PUBACK latency from each message's scheduled send time, so a stalled server cannot hide its delay",
  },
  {
    label: 'idle storeloop/mosquitto',
    subject: 'idle-devices',
    baseline: 'idle-devices-mosquitto',
    meaning: 'what the same idle connections cost each server in resident memory',
  },
];

/** The scenario ids a --scenarios value stands for: itself, or the members of a group. */
export function expandScenarioNames(names: string[]): { ids: string[]; unknown: string[] } {
  const known = new Set(SCENARIOS.map((s) => s.id));
  const ids: string[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    if (known.has(name)) ids.push(name);
    else if (SCENARIO_GROUPS[name] !== undefined) ids.push(...SCENARIO_GROUPS[name]);
    else unknown.push(name);
  }
  return { ids: [...new Set(ids)], unknown };
}

/** A fresh work directory for one scenario under the run's directory. */
export async function scenarioDir(runDir: string, scenario: Scenario): Promise<string> {
  const dir = join(runDir, scenario.id);
  await mkdir(dir, { recursive: true });
  return dir;
}
