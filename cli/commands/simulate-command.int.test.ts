import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildSimulation, DEFAULT_DELIVERY_OPTIONS, DEFAULT_RADIO_OPTIONS, DEFAULT_SIMULATION_OPTIONS, parseScenario } from '../../simulators/index.js';
import { commandOutageControl, simulationOptionsFrom, type SimulateCommandOptions } from './simulate-command.js';

/** What commander hands the command when no option is given (the defaults in cli/main.ts). */
const CLI_DEFAULTS: SimulateCommandOptions = {
  url: 'mqtt://127.0.0.1:1883',
  seed: '1',
  speed: '0',
  duration: '1h',
  visitorsPerHour: '120',
  appShare: '0.3',
  badRate: '0',
  arrivalProfile: 'flat',
  qos: '1',
  progress: true,
};

describe('simulationOptionsFrom', () => {
  it("gives the simulator's defaults when no option is set, so a seed publishes the same bytes as before --arrival-profile", () => {
    const now = Date.UTC(2026, 0, 15, 10);
    const fromCli = buildSimulation({ ...simulationOptionsFrom(CLI_DEFAULTS), now });
    const fromDefaults = buildSimulation({ ...DEFAULT_SIMULATION_OPTIONS, now });
    expect(JSON.stringify(fromCli.truth)).toBe(JSON.stringify(fromDefaults.truth));
    expect(fromCli.messages).toEqual(fromDefaults.messages);
  });

  it("shapes arrivals by the store's local hour with --arrival-profile daily", () => {
    const options = simulationOptionsFrom({ ...CLI_DEFAULTS, arrivalProfile: 'daily' });
    expect(options.arrivalProfile).toBe('daily');
    // the demo store is in Europe/Paris: 03:00 there is closed, 18:00 is the evening peak; the visitors only (they are drawn
    // before any scan and apart from the street): no passers-by and the slowest scans the options allow
    const visitorsOnly = { ...options, captureRate: 1, neighbourBeacons: 0, scanIntervalMs: 300_000 };
    expect(buildSimulation({ ...visitorsOnly, now: Date.UTC(2026, 0, 15, 3) }).truth.visits).toHaveLength(0);
    expect(buildSimulation({ ...visitorsOnly, now: Date.UTC(2026, 0, 15, 18) }).truth.visits.length).toBeGreaterThan(100);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, arrivalProfile: 'weekly' })).toThrow(/--arrival-profile: expected flat or daily/);
  });

  it('sets walking speed and groups from their flags and checks their ranges', () => {
    const defaults = simulationOptionsFrom(CLI_DEFAULTS);
    expect([defaults.walkingSpeedMps, defaults.groupShare, defaults.meanGroupSize]).toEqual([0.85, 0.3, 2.4]);
    const options = simulationOptionsFrom({ ...CLI_DEFAULTS, walkingSpeed: '1.2', groupShare: '0.5', groupSize: '3' });
    expect([options.walkingSpeedMps, options.groupShare, options.meanGroupSize]).toEqual([1.2, 0.5, 3]);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, groupSize: '5' })).toThrow(/--group-size: expected a number from 2 to 4/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, walkingSpeed: '0' })).toThrow(/--walking-speed/);
    expect(defaults.counterGroupMiss).toBe(0.15);
    expect(simulationOptionsFrom({ ...CLI_DEFAULTS, counterGroupMiss: '0' }).counterGroupMiss).toBe(0);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, counterGroupMiss: '1.5' })).toThrow(/--counter-group-miss/);
  });

  it('sets MAC randomisation and app advertising from their flags (minutes) and checks their ranges', () => {
    const defaults = simulationOptionsFrom(CLI_DEFAULTS);
    expect([defaults.randomizedMacShare, defaults.macRotationMinMs, defaults.macRotationMaxMs]).toEqual([0.95, 180_000, 600_000]);
    expect([defaults.appAdvertisingDutyCycle, defaults.appAdvertisingPeriodMs]).toEqual([0.6, 240_000]);
    const options = simulationOptionsFrom({
      ...CLI_DEFAULTS,
      randomizedMacShare: '0.8',
      macRotationMin: '1',
      macRotationMax: '15',
      appAdvertisingDuty: '1',
      appAdvertisingPeriod: '2.5',
    });
    expect([options.randomizedMacShare, options.macRotationMinMs, options.macRotationMaxMs]).toEqual([0.8, 60_000, 900_000]);
    expect([options.appAdvertisingDutyCycle, options.appAdvertisingPeriodMs]).toEqual([1, 150_000]);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, macRotationMin: '12' })).toThrow(/--mac-rotation-min: expected at most --mac-rotation-max/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, appAdvertisingDuty: '1.5' })).toThrow(/--app-advertising-duty/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, randomizedMacShare: '-0.1' })).toThrow(/--randomized-mac-share/);
  });

  it('sets the radio model from its flags and checks each against its range', () => {
    expect(simulationOptionsFrom(CLI_DEFAULTS).radio).toEqual(DEFAULT_RADIO_OPTIONS);
    const options = simulationOptionsFrom({ ...CLI_DEFAULTS, pocketShare: '0.25', wallLoss: '6', shadowingDecorrelationS: '12' });
    expect(options.radio).toEqual({ ...DEFAULT_RADIO_OPTIONS, pocketShare: 0.25, wallLossDb: 6, shadowingDecorrelationS: 12 });
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, pocketShare: '1.2' })).toThrow(/--pocket-share: expected a number from 0 to 1, got '1.2'/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, detectionSlope: 'steep' })).toThrow(/--detection-slope/);
  });

  it("sets staff, devices left behind, the capture rate and the neighbours' beacons from their flags and checks their ranges", () => {
    const defaults = simulationOptionsFrom(CLI_DEFAULTS);
    expect([defaults.staff, defaults.strayDevicesPerHour, defaults.captureRate, defaults.neighbourBeacons]).toEqual([3, 0.1, 0.15, 3]);
    const options = simulationOptionsFrom({ ...CLI_DEFAULTS, staff: '5', strayDeviceRate: '0.5', captureRate: '0.2', neighbourBeacons: '0' });
    expect([options.staff, options.strayDevicesPerHour, options.captureRate, options.neighbourBeacons]).toEqual([5, 0.5, 0.2, 0]);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, staff: '2.5' })).toThrow(/--staff: expected a whole number/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, captureRate: '0' })).toThrow(/--capture-rate: expected a number from 0.01 to 1/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, neighbourBeacons: '21' })).toThrow(/--neighbour-beacons/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, strayDeviceRate: '-1' })).toThrow(/--stray-device-rate/);
  });

  it('sets the delivery model from its flags and checks each against its range', () => {
    expect(simulationOptionsFrom(CLI_DEFAULTS).delivery).toEqual(DEFAULT_DELIVERY_OPTIONS);
    const options = simulationOptionsFrom({ ...CLI_DEFAULTS, lossRate: '0.05', duplicateRate: '0.01', clockUnsyncedShare: '0.5', outagesPerDay: '24' });
    expect(options.delivery).toEqual({ ...DEFAULT_DELIVERY_OPTIONS, lossRate: 0.05, duplicateRate: 0.01, clockUnsyncedShare: 0.5, outagesPerAgentDay: 24 });
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, lossRate: '1.5' })).toThrow(/--loss-rate: expected a number from 0 to 1, got '1.5'/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, outageMean: 'long' })).toThrow(/--outage-mean/);
  });
});

describe('phones and scans', () => {
  it('sets the phone share, the probe interval and the scan interval (seconds) from their flags and checks their ranges', () => {
    const defaults = simulationOptionsFrom(CLI_DEFAULTS);
    expect([defaults.phoneShare, defaults.probeIntervalMs, defaults.scanIntervalMs]).toEqual([0.9, 20_000, 5000]);
    const options = simulationOptionsFrom({ ...CLI_DEFAULTS, phoneShare: '0.7', probeInterval: '45', scanInterval: '2.5' });
    expect([options.phoneShare, options.probeIntervalMs, options.scanIntervalMs]).toEqual([0.7, 45_000, 2500]);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, phoneShare: '2' })).toThrow(/--phone-share: expected a number from 0 to 1/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, probeInterval: '0' })).toThrow(/--probe-interval: expected a number from 1 to 600/);
    expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, scanInterval: '0.5' })).toThrow(/--scan-interval: expected a number from 1 to 300/);
  });
});

describe('--scenario and --only', () => {
  it('loads the scenario file and the sensor selection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-scenario-'));
    try {
      const file = join(dir, 'rush.yaml');
      await writeFile(file, 'name: rush\nevents:\n  - { type: crowd_surge, at: 5m, for: 10m, factor: 2 }\n');
      const options = simulationOptionsFrom({ ...CLI_DEFAULTS, scenario: file, only: 'ble,counter' });
      expect(options.scenario?.events).toEqual([{ type: 'crowd_surge', at: 300_000, for: 600_000, factor: 2 }]);
      expect(options.only).toEqual(['ble', 'counter']);
      await writeFile(file, 'name: rush\nevents:\n  - { type: crowd_surge, at: later }\n');
      expect(() => simulationOptionsFrom({ ...CLI_DEFAULTS, scenario: file })).toThrow(/events\.0\.at: expected a duration/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an InfluxDB outage without stop and start commands', () => {
    expect(() => commandOutageControl(parseScenario({ name: 'bare', events: [{ type: 'influx_outage', at: 0, for: '1m' }] }), () => undefined)).toThrow(
      /needs `stop` and `start` shell commands/,
    );
    expect(commandOutageControl(undefined, () => undefined)).toBeUndefined();
  });
});
