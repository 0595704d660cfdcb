/**
 * The store simulator: a seeded model of a shop (floor plan, visitors, phones, beacons, touchpoints,
 * devices, agents) that publishes wire-contract traffic over MQTT and writes the ground truth to check
 * the gateway against. `buildSimulation` is pure; `runSimulation` publishes.
 */
export { buildSimulation, deriveRunId, knownSourceIds, type Simulation } from './build.js';
export { runSimulation, type RunOptions, type RunSimulationOptions } from './run.js';
export { runSimulationInWorker, type WorkerRunOptions, type WorkerRunResult } from './run-in-worker.js';
export { streamSimulation, type HeldCounts, type SimulationStream } from './simulation-stream.js';
export {
  DEFAULT_SIMULATION_OPTIONS,
  MAX_DURATION_MS,
  resolveSimulationOptions,
  type ArrivalProfile,
  type ResolvedSimulationOptions,
  type SimulationOptions,
} from './options.js';
export { DEFAULT_RADIO_OPTIONS, RADIO_FLAGS, type RadioOptions } from './radio-options.js';
export { DEFAULT_DELIVERY_OPTIONS, DELIVERY_FLAGS, IDEAL_DELIVERY_OPTIONS, type DeliveryOptions, type SourceFault } from './delivery-options.js';
export { CONSENT_FLAGS, DEFAULT_CONSENT_OPTIONS, NO_CONSENT_OPTIONS, type ConsentOptions } from './consent-options.js';
export type { ConsentChange } from './consents.js';
export { CRM_OUTCOMES, type CrmConsentTruth, type CrmCustomerTruth, type CrmEventTruth, type CrmOutcome, type CrmTruth } from './crm-truth.js';
export type { DeliveryTruth, OutageTruth } from './delivery.js';
export type { ClockTruth } from './sensor-clocks.js';
export { INJECTION_REASONS, messageBody, type InjectionReason, type SimMessage } from './messages.js';
export {
  countMessages,
  MEASUREMENT_OF,
  MEASUREMENTS,
  pointsOf,
  type GroundTruth,
  type Measurement,
  type PublishedCounts,
  type RejectionCounts,
  type VisitTruth,
  type StaffTruth,
  type PasserByTruth,
  type StrayDeviceTruth,
} from './ground-truth.js';
export type { Footfall } from './devices.js';
export type { FloorPlan, ZoneRect, PlacedSensor, PlacedTouchpoint, Door, FixedBeacon } from './floor-plan.js';
export type { Interaction } from './touchpoints.js';
export { simulationWindow, type SimulationWindow } from './schedule.js';
export { formatDuration, parseDuration } from '../lib/duration.js';
export { SimulationConnectError, SimulationError, SimulationOptionsError, SimulationPublishError } from './errors.js';
export { DEFAULT_AGENT_ID, SIMULATOR_VERSION } from './status.js';
export {
  loadScenario,
  parseOnly,
  parseScenario,
  SOURCE_CATEGORIES,
  ScenarioError,
  type Scenario,
  type ScenarioEvent,
  type SourceCategory,
} from './scenario.js';
export type { PlayedEvent, ScenarioTruth } from './scenario-effects.js';
export type { InfluxOutageControl, InfluxOutageEvent } from './influx-outages.js';
