/**
 * `npm run presence-accuracy`: the experience engine's zone assignment (gateway/experience) measured
 * offline against the simulator's truth, next to the strongest-scanner baseline of `storeloop
 * evaluate`. For each seed: a simulation built in memory (buildSimulation, no MQTT or InfluxDB), its
 * BLE sightings as the gateway would store them (presence-sightings.ts), the engine run on them, and
 * zone accuracy of app carriers' visitor-minutes and dwell MdAPE with evaluation/metrics.ts.
 * Tune on `--seeds 101-105`; report on `--seeds 1-5` (the default).
 */
import { Command } from 'commander';

import { dwellMdapePct, estimatedDwellMs, MINUTE_MS, strongestZoneMinutes, zoneAccuracy } from '../evaluation/metrics.js';
import { touchpointAnchors } from '../gateway/experience/anchors.js';
import { assignZones } from '../gateway/experience/engine.js';
import { DEFAULT_PRESENCE_PARAMS, type PresenceParams } from '../gateway/experience/params.js';
import { presenceStore } from '../gateway/experience/store-model.js';
import { buildSimulation, DEFAULT_SIMULATION_OPTIONS, type RadioOptions } from '../simulators/index.js';
import { dwellByZone, minuteZones } from '../simulators/truth-minutes.js';
import { parseSeeds } from './accuracy-table.js';
import { acceptedBeaconInteractions, acceptedBleSightings } from './presence-sightings.js';
import { formatPresenceTable, type PresenceResult } from './presence-table.js';

/** A fixed window end: Monday 30 November 2026, 14:00 in Paris (the demo store open the hour before). */
export const PRESENCE_NOW = Date.UTC(2026, 10, 30, 13);

/** The figures of one seed. */
export function presenceAccuracy(
  seed: number,
  durationMs: number,
  params: PresenceParams = DEFAULT_PRESENCE_PARAMS,
  radio: Partial<RadioOptions> = {},
  useAnchors = true,
  /** The app's advertising duty cycle (the simulator's default when absent): a store whose app advertises more or less. */
  appAdvertisingDutyCycle?: number,
): PresenceResult {
  const sim = buildSimulation({
    ...DEFAULT_SIMULATION_OPTIONS,
    seed,
    durationMs,
    now: PRESENCE_NOW,
    radio,
    ...(appAdvertisingDutyCycle === undefined ? {} : { appAdvertisingDutyCycle }),
  });
  const { truth } = sim;
  const store = sim.options.store;
  const rows = acceptedBleSightings(sim.messages, store, truth.windowStart, truth.windowEnd);
  // touchpoint interactions that name a beacon id, as the gateway stores them: anchors of the beacon's zone
  const interactions = useAnchors ? acceptedBeaconInteractions(sim.messages, store, truth.windowStart, truth.windowEnd) : [];
  const cpuBefore = process.cpuUsage();
  const engine = assignZones(
    presenceStore(store),
    rows.map((r) => ({ ts: r.ts, sensor: r.sensor, device: r.visitor, rssi: r.rssi })),
    params,
    { anchors: touchpointAnchors(store, interactions) },
  );
  const cpu = process.cpuUsage(cpuBefore);
  process.stderr.write(
    `presence-accuracy: seed ${seed}: ${interactions.length} touchpoint interactions with a beacon id; zone assignment ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU\n`,
  );
  if (params.calibrate) {
    const u = engine.params;
    process.stderr.write(
      `presence-accuracy: seed ${seed} calibrated n ${u.pathLossExponent.toFixed(2)}, wall ${u.wallLossDb.toFixed(2)} dB, gain ${u.gainOffsetDb.toFixed(2)} dB, σ ${u.shadowingSigmaDb.toFixed(2)} dB, midpoint ${u.detectionMidpointDbm.toFixed(2)} dBm\n`,
    );
  }
  const baseline = strongestZoneMinutes(rows);
  const app = truth.visits.filter((v) => v.app && v.beacon !== undefined);
  const truthMinutes = app.map((v) => minuteZones(v.minutes));
  const engineZone = zoneAccuracy(
    app.map((v, i) => ({ truth: truthMinutes[i] as Map<number, string>, estimate: engine.devices.get(v.beacon as string)?.minutes })),
  );
  const baseZone = zoneAccuracy(app.map((v, i) => ({ truth: truthMinutes[i] as Map<number, string>, estimate: baseline.get(v.beacon as string) })));
  const engineDwell = dwellMdapePct(app.map((v) => ({ truth: dwellByZone(v.stays), estimate: engine.devices.get(v.beacon as string)?.dwell ?? new Map() })));
  const baseDwell = dwellMdapePct(app.map((v) => ({ truth: dwellByZone(v.stays), estimate: estimatedDwellMs(baseline.get(v.beacon as string)) })));
  // the engine's accuracy split by whether the beacon was heard in the minute (by its stamps)
  const heardMinutes = new Map<string, Set<number>>();
  for (const r of rows) {
    const set = heardMinutes.get(r.visitor) ?? new Set<number>();
    set.add(Math.floor(r.ts / MINUTE_MS) * MINUTE_MS);
    heardMinutes.set(r.visitor, set);
  }
  const split = (heard: boolean) =>
    zoneAccuracy(
      app.map((v, i) => ({
        truth: new Map([...(truthMinutes[i] as Map<number, string>)].filter(([m]) => (heardMinutes.get(v.beacon as string)?.has(m) === true) === heard)),
        estimate: engine.devices.get(v.beacon as string)?.minutes,
      })),
    );
  const heard = split(true);
  const silent = split(false);
  return {
    seed,
    silentMinutesPct: engineZone.minutes === 0 ? null : (silent.minutes / engineZone.minutes) * 100,
    engineHeardPct: heard.pct,
    engineSilentPct: silent.pct,
    minutes: engineZone.minutes,
    engineZonePct: engineZone.pct,
    baselineZonePct: baseZone.pct,
    engineDwellPct: engineDwell.pct,
    baselineDwellPct: baseDwell.pct,
    dwellPairs: engineDwell.pairs,
  };
}

interface Options {
  seeds: string;
  duration: string;
  params?: string;
  radio?: string;
  /** --calibrate / --no-calibrate: the engine's self-calibration on or off (default: the engine's). */
  calibrate?: boolean;
  /** --no-anchors: the engine without touchpoint interactions. */
  anchors: boolean;
  /** --app-duty-cycle: the share of time the app advertises (the simulator's default 0.6). */
  appDutyCycle?: string;
}

async function main(options: Options): Promise<void> {
  const seeds = parseSeeds(options.seeds);
  const durationMs = Number(options.duration) * 60_000;
  const params: PresenceParams = {
    ...DEFAULT_PRESENCE_PARAMS,
    ...(options.params ? (JSON.parse(options.params) as Partial<PresenceParams>) : {}),
    ...(options.calibrate === undefined ? {} : { calibrate: options.calibrate }),
  };
  // a store whose radio is not the engine's textbook: the simulator's radio parameters moved away from their defaults
  const radio = options.radio ? (JSON.parse(options.radio) as Partial<RadioOptions>) : {};
  const dutyCycle = options.appDutyCycle === undefined ? undefined : Number(options.appDutyCycle);
  if (dutyCycle !== undefined && !(dutyCycle > 0 && dutyCycle <= 1)) throw new Error(`--app-duty-cycle: a share in (0, 1], not ${options.appDutyCycle}`);
  const results: PresenceResult[] = [];
  for (const seed of seeds) {
    process.stderr.write(`presence-accuracy: seed ${seed}…\n`);
    results.push(presenceAccuracy(seed, durationMs, params, radio, options.anchors, dutyCycle));
  }
  const simulator = [
    options.radio ? `simulator radio ${options.radio}` : 'simulator defaults',
    ...(dutyCycle === undefined ? [] : [`app advertising ${dutyCycle * 100} % of the time`]),
  ].join(', ');
  const calibration = params.calibrate ? 'engine self-calibrated' : 'engine not calibrated';
  const anchors = options.anchors ? 'touchpoint anchors' : 'no touchpoint anchors';
  const title = `${seeds.length} seeds, ${durationMs / 60_000} min each, demo store, ${simulator}, ${calibration}, ${anchors}, window ending ${new Date(PRESENCE_NOW).toISOString()}`;
  process.stdout.write(formatPresenceTable(title, results));
}

const program = new Command('presence-accuracy')
  .description("the experience engine's zone assignment against the simulator's truth, next to the strongest-scanner baseline")
  .option('--seeds <list>', 'seeds: a range 1-5 or a list 1,4,9 (tune on 101-105)', '1-5')
  .option('--duration <minutes>', 'simulated minutes per seed', '60')
  .option('--params <json>', 'engine parameters to override, as JSON (tuning)')
  .option('--radio <json>', "the simulator's radio parameters to override, as JSON (a store unlike the engine's assumptions; docs/simulator.md)")
  .option('--calibrate', "the engine's self-calibration on (gateway/experience/calibration.ts)")
  .option('--no-calibrate', "the engine's self-calibration off")
  .option('--no-anchors', 'leave out the touchpoint interactions that name a beacon id (zone anchors)')
  .option(
    '--app-duty-cycle <share>',
    "share of time the retailer's app advertises its beacon, 0-1 (the simulator's default 0.6): a store whose app advertises more",
  )
  .action(async (opts: Options) => main(opts));

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`presence-accuracy: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
