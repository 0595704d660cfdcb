/**
 * Builds a whole simulation up front: the store model, every message in publishing order, and the
 * ground truth. Pure and deterministic: the same options (seed and `now` included) give the same bytes.
 */
import type { StoreConfig } from '../config/index.js';
import { drawArrivals } from './arrivals.js';
import { consentMessages, planConsents, type ConsentChange } from './consents.js';
import { crmTruth, type CrmTruth } from './crm-truth.js';
import { catalogue, counterMessages, environmentMessages, shelfMessages, type DeviceParams, type Footfall } from './devices.js';
import { buildFloorPlan, type FloorPlan } from './floor-plan.js';
import { exposures } from './exposures.js';
import { deliveredFootfall, deliverMessages, interactionDelivery, markFutureRejections, type DeliveryParams, type DeliveryTruth } from './delivery.js';
import { countMessages, type GroundTruth, type VisitTruth } from './ground-truth.js';
import { peopleTruth, otherPeople, withStreetWalks, type OtherPeople } from './people.js';
import { injectBadMessages } from './injection.js';
import { finaliseMessages, type FinaliseParams, type SimMessage } from './messages.js';
import { resolveSimulationOptions, type ResolvedSimulationOptions, type SimulationOptions } from './options.js';
import { createRng } from './prng.js';
import { outOfOrderWindows, playedEvents, scenarioFaults, scenarioTruth, selectedDrafts, surgedArrivals, type PlayedEvent } from './scenario-effects.js';
import { scanMessages, type ScanParams } from './scans.js';
import { applyClocks, SensorClocks, type ClockParams } from './sensor-clocks.js';
import { simulationWindow, type SimulationWindow } from './schedule.js';
import { statusMessages } from './status.js';
import { interactionMessages, planInteractions, type Interaction } from './touchpoints.js';
import { pathTruth } from './truth-minutes.js';
import { generateVisitors, meanPartySize, wifiPseudonymsDuring, type Visitor } from './visitors.js';

export interface Simulation {
  /** Every message, in publishing order (ascending `sendAt`; `ts` is the source's stamp, `trueTs` when it happened). */
  messages: SimMessage[];
  truth: GroundTruth;
  window: SimulationWindow;
  options: ResolvedSimulationOptions;
}

/** Ids of every source a gateway configured with this store accepts messages from. */
export function knownSourceIds(store: StoreConfig): Set<string> {
  return new Set([...store.sensors, ...store.touchpoints, ...store.devices, ...store.agents].map((s) => s.id));
}

/** Derives the run id: from the seed and the window, so re-running a seed later does not reuse message ids. */
export function deriveRunId(seed: number, windowStartMs: number): string {
  return createRng(seed, 'run-id', windowStartMs).hex(4);
}

/** Everything of a run that is planned before its messages: the people, their interactions and consents, the clocks. */
export interface SimulationModel {
  options: ResolvedSimulationOptions;
  window: SimulationWindow;
  runId: string;
  plan: FloorPlan;
  events: PlayedEvent[];
  visitors: Visitor[];
  interactions: Interaction[];
  others: OtherPeople;
  deviceParams: DeviceParams;
  consents: ConsentChange[];
  clocks: SensorClocks;
  clockParams: ClockParams;
  knownSources: Set<string>;
}

/** Plans a run: options checked, the people and what they do, the sources' clocks. */
export function modelSimulation(opts: SimulationOptions): SimulationModel {
  const options = resolveSimulationOptions(opts);
  const { seed, store } = options;
  const window = simulationWindow(options.now, options.durationMs, options.speed);
  const { startMs, endMs } = window;
  const runId = deriveRunId(seed, startMs);
  const plan = buildFloorPlan(store);
  // arrivals are parties (someone alone or a group), drawn at the rate that keeps visitorsPerHour a rate of people
  const partiesPerHour = options.visitorsPerHour / meanPartySize(options.groupShare, options.meanGroupSize);
  const events = options.scenario ? playedEvents(options.scenario, startMs, endMs) : [];
  const arrivals = surgedArrivals(
    drawArrivals(
      {
        startMs,
        endMs,
        visitorsPerHour: partiesPerHour,
        profile: options.arrivalProfile,
        timeZone: store.timezone,
        ...(store.openingHours ? { openingHours: store.openingHours } : {}),
      },
      createRng(seed, 'arrivals'),
    ),
    events,
    partiesPerHour,
    createRng(seed, 'surge'),
  );
  const visitors = generateVisitors(arrivals, plan, {
    seed,
    storeId: store.id,
    endMs,
    appShare: options.appShare,
    phoneShare: options.phoneShare,
    randomizedMacShare: options.randomizedMacShare,
    macRotationMinMs: options.macRotationMinMs,
    macRotationMaxMs: options.macRotationMaxMs,
    appAdvertisingDutyCycle: options.appAdvertisingDutyCycle,
    appAdvertisingPeriodMs: options.appAdvertisingPeriodMs,
    walkingSpeedMps: options.walkingSpeedMps,
    groupShare: options.groupShare,
    meanGroupSize: options.meanGroupSize,
  });
  const interactions = planInteractions({ seed, store, visitors, clothingSkus: catalogue(store.id, 'clothing', 40), outOfOrder: outOfOrderWindows(events) });
  // staff, devices left behind, passers-by and the neighbours' beacons (people.ts): streams of their own
  const others = otherPeople(options, plan, startMs, endMs, visitors);
  const deviceParams = { seed, store, plan, visitors, startMs, endMs, counterGroupMiss: options.counterGroupMiss, staff: others.staffStints };
  const consents = planConsents({
    seed,
    touchpoints: store.touchpoints,
    visitors,
    interactions,
    options: options.consent,
    outOfOrder: outOfOrderWindows(events),
  });
  // sources' clocks stamp the messages; then delivery (latency, loss, duplicates, outages) decides when each goes out
  const clockParams = { seed, store, startMs, endMs, delivery: options.delivery, sourceFaults: [...options.sourceFaults, ...scenarioFaults(events, startMs)] };
  const clocks = new SensorClocks(clockParams);
  return {
    options,
    window,
    runId,
    plan,
    events,
    visitors,
    interactions,
    others,
    deviceParams,
    consents,
    clocks,
    clockParams,
    knownSources: knownSourceIds(store),
  };
}

/** The scan parameters of a run. */
export function scanParams(model: SimulationModel): ScanParams {
  const { options, window, plan, visitors, others } = model;
  return {
    seed: options.seed,
    plan,
    visitors,
    startMs: window.startMs,
    endMs: window.endMs,
    scanIntervalMs: options.scanIntervalMs,
    probeIntervalMs: options.probeIntervalMs,
    radio: options.radio,
    others: others.scanned,
    neighbourBeacons: others.beacons,
  };
}

/** The finalising parameters of a run's messages (consents add their `midTag`). */
export function finaliseParams(model: SimulationModel): FinaliseParams {
  return { topicPrefix: model.options.topicPrefix, storeId: model.options.store.id, runId: model.runId, qos: model.options.qos };
}

/** The consent messages of a run, finalised and stamped: few, made up front (consents.ts). */
export function consentMessagesOf(model: SimulationModel): SimMessage[] {
  const made = finaliseMessages(selectedDrafts(consentMessages(model.consents), model.options.store, model.options.only), {
    ...finaliseParams(model),
    midTag: 'consent',
  });
  return applyClocks(made, model.clocks, model.clockParams);
}

/** The delivery parameters of a run. */
export function deliveryParams(model: SimulationModel): DeliveryParams {
  return { ...model.clockParams, runId: model.runId, topicPrefix: model.options.topicPrefix, clocks: model.clocks };
}

/** What the truth takes from a run's messages. */
export interface MessageTruth {
  footfall: Footfall[];
  delivery: DeliveryTruth;
  counts: ReturnType<typeof countMessages>;
  crm: CrmTruth;
}

/** The ground truth of a run from its model and what its messages came to. */
export function assembleTruth(model: SimulationModel, parts: MessageTruth): GroundTruth {
  const { options, window, runId, plan, visitors, interactions, others } = model;
  const { seed, store } = options;
  const { startMs, endMs } = window;
  const { store: _store, ...echoed } = options;
  return {
    generator: 'storeloop-simulator',
    truthVersion: 2,
    seed,
    runId,
    options: { ...echoed, storeId: store.id },
    storeId: store.id,
    windowStart: startMs,
    windowEnd: endMs,
    completed: true,
    floorPlan: plan,
    visits: withStreetWalks(
      seed,
      visitors.map((v) => visitTruth(seed, v)),
      others.streetWalks,
    ),
    interactions,
    exposures: exposures(plan, visitors, interactions),
    footfall: parts.footfall,
    delivery: parts.delivery,
    ...(options.scenario
      ? { scenario: scenarioTruth(options.scenario, options.only, startMs, endMs) }
      : options.only
        ? { scenario: { name: 'only', only: [...options.only], events: [] } }
        : {}),
    ...peopleTruth(seed, others, visitors, startMs, endMs),
    ...parts.counts,
    crm: parts.crm,
  };
}

/** Builds the model, the messages and the ground truth of one run (all held: simulation-stream.ts makes long runs). */
export function buildSimulation(opts: SimulationOptions): Simulation {
  const model = modelSimulation(opts);
  const { options, window, runId, visitors, interactions, consents, clocks, clockParams, knownSources, deviceParams } = model;
  const { seed, store } = options;
  const { startMs, endMs } = window;
  const counters = counterMessages(deviceParams);
  const drafts = selectedDrafts(
    [
      ...statusMessages({ seed, store, startMs, endMs }),
      ...scanMessages(scanParams(model), createRng(seed, 'radio')),
      ...interactionMessages(interactions),
      ...counters.drafts,
      ...shelfMessages(deviceParams),
      ...environmentMessages(deviceParams),
    ],
    store,
    options.only,
  );
  const made = finaliseMessages(drafts, finaliseParams(model));
  // consents (consents.ts): drawn, numbered, stamped and delivered apart, so every other message stays as it was without them
  const clocked = applyClocks(made, clocks, clockParams);
  const delivered = deliverMessages(inTrueTimeOrder(clocked, consentMessagesOf(model)), deliveryParams(model));
  const injected = injectBadMessages(
    delivered.messages,
    { badRate: options.badRate, topicPrefix: options.topicPrefix, runId, knownSources },
    createRng(seed, 'injection'),
  );
  const messages = markFutureRejections(injected, window);
  const truth = assembleTruth(model, {
    footfall: deliveredFootfall(counters.footfall, messages, startMs, endMs),
    delivery: { ...delivered.truth, interactions: interactionDelivery(clocked, messages) },
    counts: countMessages(messages, knownSources),
    crm: crmTruth({ messages, knownSources, visitors, interactions, consents, stamp: (sourceId, trueMs) => clocks.stamp(sourceId, trueMs) }),
  });
  return { messages, truth, window, options };
}

/** Merges `extra` into `messages` (both ascending by true time), each after the messages of the same instant: `messages` keep their order. */
export function inTrueTimeOrder(messages: readonly SimMessage[], extra: readonly SimMessage[]): SimMessage[] {
  if (extra.length === 0) return [...messages];
  const out: SimMessage[] = [];
  let k = 0;
  for (const m of messages) {
    for (; k < extra.length && (extra[k] as SimMessage).trueTs < m.trueTs; k += 1) out.push(extra[k] as SimMessage);
    out.push(m);
  }
  return out.concat(extra.slice(k));
}

export function visitTruth(seed: number, v: Visitor): VisitTruth {
  return {
    visitor: v.id,
    role: v.role === 'staff' || v.role === 'passer_by' ? v.role : 'visitor',
    ...(v.group !== undefined ? { group: v.group } : {}),
    app: v.app,
    ...(v.beaconId !== undefined ? { beacon: v.beaconId } : {}),
    ...(v.advertising !== undefined ? { advertising: v.advertising.map((i) => ({ ...i })) } : {}),
    ...(v.appPseudonym !== undefined ? { appPseudonym: v.appPseudonym } : {}),
    ...(v.customer !== undefined ? { customer: v.customer } : {}),
    phone: v.phone,
    randomizedMac: v.randomizedMac,
    wifiPseudonyms: wifiPseudonymsDuring(seed, v),
    ...(v.randomizedMac ? { macRotationMs: v.rotationMs } : {}),
    enteredAt: v.enteredAt,
    leftAt: v.leftAt,
    path: v.path.map((s) => ({ ...s })),
    ...pathTruth(v.path),
  };
}
