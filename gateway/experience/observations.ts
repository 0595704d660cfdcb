/**
 * RSSI observation windows: the BLE sightings of each device (beacon id) bucketed into steps of event
 * time, per scanner, after each scanner's clock offset is taken out (clock-offsets.ts). A step
 * also records which scanners reported at all in it: a scanner that reported but did not hear the
 * device is evidence ("not heard"); one that reported nothing (offline, its report lost) is not.
 * A scanner reported in a step when it sent a scan report stamped in it: one with a sighting of any
 * device (`rows`), or any other report it sent (`reports`: the stamps of its reports of devices not
 * among `rows`, e.g. store beacons and other visitors, and of empty reports).
 */

/** One BLE sighting as the gateway stores it: the message's `ts` (the sensor's clock), its sensor, the id and RSSI. */
export interface BleObservation {
  ts: number;
  sensor: string;
  /** The sighting's id (`visitor` field): a beacon id. */
  device: string;
  rssi: number;
}

/** A scanner's scan report: its stamp (the scanner's clock) and the scanner, whatever it heard. */
export interface ScanReport {
  ts: number;
  sensor: string;
}

/** How stamps map to steps: step i covers [i·stepMs + phaseMs − stepMs/2, i·stepMs + phaseMs + stepMs/2) in corrected time. */
export interface StepClock {
  stepMs: number;
  /** Where the scanners' common scan grid lies within a step, ms in [0, stepMs). */
  phaseMs: number;
  /** Sensor id → its clock's offset (stamp − true time), ms; absent: 0. */
  offsets: ReadonlyMap<string, number>;
}

/** The step index of a stamp of `sensor`. */
export function stepOf(clock: StepClock, sensor: string, ts: number): number {
  const corrected = ts - (clock.offsets.get(sensor) ?? 0) - clock.phaseMs;
  return Math.floor((corrected + clock.stepMs / 2) / clock.stepMs);
}

/** The centre (epoch ms, true time) of step `step`. */
export function stepCentre(clock: StepClock, step: number): number {
  return step * clock.stepMs + clock.phaseMs;
}

/** Step → sensor → mean RSSI heard in it. */
export type DeviceSteps = Map<number, Map<string, number>>;

export interface ObservationWindows {
  /** Device id → its steps with at least one sighting. */
  devices: Map<string, DeviceSteps>;
  /** Step → the scanners that reported any sighting in it (of any device). */
  reporting: Map<number, Set<string>>;
}

/** Buckets the sightings into steps. Pure; the order of `rows` and `reports` does not matter. */
export function observationWindows(rows: Iterable<BleObservation>, clock: StepClock, reports: Iterable<ScanReport> = []): ObservationWindows {
  const sums = new Map<string, Map<number, Map<string, { sum: number; n: number }>>>();
  const reporting = new Map<number, Set<string>>();
  const reported = (sensor: string, step: number) => {
    const bySensor = reporting.get(step) ?? new Set<string>();
    bySensor.add(sensor);
    reporting.set(step, bySensor);
  };
  for (const report of reports) reported(report.sensor, stepOf(clock, report.sensor, report.ts));
  for (const row of rows) {
    const step = stepOf(clock, row.sensor, row.ts);
    reported(row.sensor, step);
    const steps = sums.get(row.device) ?? new Map<number, Map<string, { sum: number; n: number }>>();
    sums.set(row.device, steps);
    const cell = steps.get(step) ?? new Map<string, { sum: number; n: number }>();
    steps.set(step, cell);
    const acc = cell.get(row.sensor) ?? { sum: 0, n: 0 };
    acc.sum += row.rssi;
    acc.n += 1;
    cell.set(row.sensor, acc);
  }
  const devices = new Map<string, DeviceSteps>();
  for (const device of [...sums.keys()].sort()) {
    const steps = sums.get(device) as Map<number, Map<string, { sum: number; n: number }>>;
    const out: DeviceSteps = new Map();
    for (const step of [...steps.keys()].sort((a, b) => a - b)) {
      const cell = steps.get(step) as Map<string, { sum: number; n: number }>;
      out.set(step, new Map([...cell].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([sensor, s]) => [sensor, s.sum / s.n])));
    }
    devices.set(device, out);
  }
  return { devices, reporting };
}
