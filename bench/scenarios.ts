/**
 * The benchmark's scenarios, run one after the other in this order, and the comparisons the report
 * prints as ratios. Adding a gateway variant is one more `storeloopScenario({ id, title, gatewayEnv })`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { mosquittoReference } from './mosquitto-scenario.js';
import { storeloopOutageScenario } from './outage-scenario.js';
import type { Scenario } from './scenario.js';
import { storeloopScenario } from './storeloop-scenario.js';

/** Storeloop as shipped: validation, then PUBACK once InfluxDB accepted the points. */
export const storeloopDurable = storeloopScenario({ id: 'storeloop-durable', title: 'storeloop-durable: validate, PUBACK after InfluxDB accepted the points' });

/** The same gateway acknowledging without waiting: the reference for what durability costs. */
export const storeloopImmediate = storeloopScenario({
  id: 'storeloop-immediate',
  title: 'storeloop-immediate: validate, PUBACK at once (STORELOOP_ACK_MODE=immediate, bench only)',
  gatewayEnv: { STORELOOP_ACK_MODE: 'immediate' },
});

/** Durable ack with InfluxDB down: every PUBACK after a spool append and fsync, then the drain. */
export const storeloopOutage = storeloopOutageScenario({
  id: 'storeloop-outage',
  title: 'storeloop-outage: InfluxDB down, PUBACK after the spool append + fsync; then influxd restarted and the spool drained',
});

/** Run order: the storeloop variants first, the reference last. */
export const SCENARIOS: Scenario[] = [storeloopDurable, storeloopImmediate, storeloopOutage, mosquittoReference];

/** A ratio column of the report: `subject` divided by `baseline`, when both ran. */
export interface Comparison {
  label: string;
  subject: string;
  baseline: string;
  /** What the ratio measures, for the line under the table. */
  meaning: string;
}

export const COMPARISONS: Comparison[] = [
  { label: 'durable/immediate', subject: 'storeloop-durable', baseline: 'storeloop-immediate', meaning: 'what waiting for InfluxDB before the PUBACK costs: the price of durability' },
  {
    label: 'outage/durable',
    subject: 'storeloop-outage',
    baseline: 'storeloop-durable',
    meaning:
      'the spool path (append + group-committed fsync) instead of InfluxDB 2xx; influxd is stopped and no sampler polls it, which on a small machine also leaves their CPU to the gateway',
  },
  { label: 'storeloop/mosquitto', subject: 'storeloop-durable', baseline: 'mosquitto', meaning: 'validation plus the durable ack, against a broker that neither validates nor persists and PUBACKs on receipt' },
];

/** A fresh work directory for one scenario under the run's directory. */
export async function scenarioDir(runDir: string, scenario: Scenario): Promise<string> {
  const dir = join(runDir, scenario.id);
  await mkdir(dir, { recursive: true });
  return dir;
}
