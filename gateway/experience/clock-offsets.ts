/**
 * Sensor clock offsets, estimated from the sightings alone. Scanners scan on a common grid of
 * `stepMs`; a sensor's stamps are its clock's (true time + offset + jitter).
 *
 * - Phase: the circular mean of every stamp modulo the step gives the grid's phase (most clocks are
 *   synchronised, so the majority sets it); a sensor's own circular mean gives its offset modulo the
 *   step (the fine part).
 * - Whole steps: app beacons advertise on and off for minutes at a time, and every scanner in range
 *   hears those on/off edges at the same true instant. For each candidate shift of k steps, count the
 *   sensor's sightings that land (after the shift) in a step in which another sensor heard the same
 *   device; the best k is the coarse part. Two passes, the second against the others' corrected stamps.
 */
import { stepOf, type BleObservation, type StepClock } from './observations.js';

/** Circular mean of `values` modulo `period`, in [0, period). */
export function circularMean(values: Iterable<number>, period: number): number {
  let s = 0;
  let c = 0;
  for (const v of values) {
    const a = (2 * Math.PI * (((v % period) + period) % period)) / period;
    s += Math.sin(a);
    c += Math.cos(a);
  }
  if (s === 0 && c === 0) return 0;
  const mean = (Math.atan2(s, c) / (2 * Math.PI)) * period;
  return ((mean % period) + period) % period;
}

/** `x` wrapped into [−period/2, period/2). */
function wrap(x: number, period: number): number {
  return ((((x + period / 2) % period) + period) % period) - period / 2;
}

/** Sensors whose own phases agree within this much are taken to share a clock, ms. */
const PHASE_AGREEMENT_MS = 400;

/**
 * The grid's phase: the largest group of sensors whose phases agree (synchronised clocks agree to
 * tens of ms; an unsynchronised one lies anywhere in the step), then the circular mean of that
 * group's phases. A plain mean over every stamp would be pulled off by the unsynchronised sensors
 * when they are many (seed 2 of the report has three of six).
 */
function gridPhase(sensors: readonly string[], own: ReadonlyMap<string, number>, stepMs: number): number {
  let best: string[] = [];
  for (const a of sensors) {
    const group = sensors.filter((b) => Math.abs(wrap((own.get(a) as number) - (own.get(b) as number), stepMs)) <= PHASE_AGREEMENT_MS);
    if (group.length > best.length) best = group;
  }
  return circularMean(
    best.map((s) => own.get(s) as number),
    stepMs,
  );
}

/** The step clock of these sightings: the grid's phase and each sensor's offset (fine and coarse parts). */
export function estimateStepClock(rows: readonly BleObservation[], stepMs: number, maxOffsetMs: number): StepClock {
  const bySensor = new Map<string, BleObservation[]>();
  for (const row of rows) {
    const list = bySensor.get(row.sensor) ?? [];
    list.push(row);
    bySensor.set(row.sensor, list);
  }
  const sensors = [...bySensor.keys()].sort();
  const own = new Map(
    sensors.map((sensor) => [
      sensor,
      circularMean(
        (bySensor.get(sensor) as BleObservation[]).map((r) => r.ts),
        stepMs,
      ),
    ]),
  );
  const phaseMs = Math.round(gridPhase(sensors, own, stepMs));
  const fine = new Map<string, number>();
  for (const sensor of sensors) fine.set(sensor, Math.round(wrap((own.get(sensor) as number) - phaseMs, stepMs)));
  let offsets = new Map(fine);
  const maxK = Math.floor(maxOffsetMs / stepMs);
  for (let pass = 0; pass < 2; pass += 1) {
    const clock: StepClock = { stepMs, phaseMs, offsets };
    const next = new Map<string, number>();
    for (const sensor of sensors) {
      // device|step heard by any other sensor, in corrected time
      const heard = new Set<string>();
      for (const row of rows) if (row.sensor !== sensor) heard.add(`${row.device}\n${stepOf(clock, row.sensor, row.ts)}`);
      const fineOnly: StepClock = { stepMs, phaseMs, offsets: new Map([[sensor, fine.get(sensor) ?? 0]]) };
      const own = (bySensor.get(sensor) as BleObservation[]).map((r) => ({ device: r.device, step: stepOf(fineOnly, sensor, r.ts) }));
      let best = { k: 0, score: -1 };
      for (let k = -maxK; k <= maxK; k += 1) {
        let score = 0;
        for (const o of own) if (heard.has(`${o.device}\n${o.step - k}`)) score += 1;
        if (score > best.score || (score === best.score && Math.abs(k) < Math.abs(best.k))) best = { k, score };
      }
      next.set(sensor, (fine.get(sensor) ?? 0) + best.k * stepMs);
    }
    offsets = next;
  }
  return { stepMs, phaseMs, offsets };
}
