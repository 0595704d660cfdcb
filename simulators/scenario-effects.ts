/**
 * What a scenario's events do to a simulation: more (or fewer) arrivals in a surge, touchpoints that
 * cannot be used, sources that are offline or stamp with a skewed clock, InfluxDB outage windows,
 * and the `only` selection of which sensors publish. The truth records the events as they were
 * played, in epoch ms.
 */
import type { StoreConfig } from '../config/index.js';
import type { SourceFault } from './delivery-options.js';
import type { DraftMessage } from './messages.js';
import type { Rng } from './prng.js';
import { eventWindow, sourceCategory, type Scenario, type ScenarioEvent, type SourceCategory } from './scenario.js';

const MS_PER_HOUR = 3_600_000;

/** A scenario event as played, in epoch ms: the event's own fields, `from` and `to` instead of `at` and `for`. */
export type PlayedEvent = { [E in ScenarioEvent as E['type']]: Omit<E, 'at' | 'for'> & { from: number; to: number } }[ScenarioEvent['type']];

/** The truth's record of a scenario. */
export interface ScenarioTruth {
  name: string;
  description?: string;
  /** Which sensors published (absent: all). */
  only?: SourceCategory[];
  events: PlayedEvent[];
}

/** The scenario's events with their windows in epoch ms (clipped to the window's end). */
export function playedEvents(scenario: Scenario, startMs: number, endMs: number): PlayedEvent[] {
  return scenario.events.map((event) => {
    const { at: _at, for: _for, ...rest } = event;
    return { ...rest, ...eventWindow(event, startMs, endMs) } as PlayedEvent;
  });
}

export function scenarioTruth(scenario: Scenario, only: readonly SourceCategory[] | undefined, startMs: number, endMs: number): ScenarioTruth {
  return {
    name: scenario.name,
    ...(scenario.description !== undefined ? { description: scenario.description } : {}),
    ...(only !== undefined ? { only: [...only] } : {}),
    events: playedEvents(scenario, startMs, endMs),
  };
}

/**
 * Party arrivals with the crowd surges applied: inside a surge of factor f > 1 a Poisson stream of
 * (f − 1) × `partiesPerHour` more parties arrives (flat, whatever the arrival profile); inside one of
 * f < 1 each arrival stays with chance f. Ascending.
 */
export function surgedArrivals(arrivals: readonly number[], events: readonly PlayedEvent[], partiesPerHour: number, rng: Rng): number[] {
  let out = [...arrivals];
  for (const event of events) {
    if (event.type !== 'crowd_surge') continue;
    const inside = (t: number) => t >= event.from && t < event.to;
    if (event.factor < 1) {
      out = out.filter((t) => !inside(t) || rng.chance(event.factor));
      continue;
    }
    const extraPerMs = ((event.factor - 1) * partiesPerHour) / MS_PER_HOUR;
    if (extraPerMs <= 0) continue;
    const meanGapMs = 1 / extraPerMs;
    for (let t = event.from + rng.exponential(meanGapMs); t < event.to; t += rng.exponential(meanGapMs)) out.push(Math.floor(t));
  }
  return out.sort((a, b) => a - b);
}

/** When each touchpoint is out of order. */
export function outOfOrderWindows(events: readonly PlayedEvent[]): Array<{ touchpoint: string; from: number; to: number }> {
  return events.flatMap((e) => (e.type === 'touchpoint_out_of_order' ? e.touchpoints.map((touchpoint) => ({ touchpoint, from: e.from, to: e.to })) : []));
}

/** InfluxDB outage windows, in the order they start. */
export function influxOutages(events: readonly PlayedEvent[]): Array<Extract<PlayedEvent, { type: 'influx_outage' }>> {
  return events.flatMap((e) => (e.type === 'influx_outage' ? [e] : [])).sort((a, b) => a.from - b.from);
}

/**
 * The delivery model's source faults (delivery-options.ts) for the scenario's offline and clock events,
 * times from the window's start: a sensor offline loses its messages; an agent offline (its id stands
 * for every source behind it) replays them at the end when `replay`; a clock skew shifts the stamps.
 */
export function scenarioFaults(events: readonly PlayedEvent[], startMs: number): SourceFault[] {
  return events.flatMap((e): SourceFault[] => {
    const window = { from: e.from - startMs, to: e.to - startMs };
    if (e.type === 'sensor_offline') return [{ kind: 'offline', sourceIds: [...e.sources], replay: false, ...window }];
    if (e.type === 'agent_offline') return [{ kind: 'offline', sourceIds: [e.agent], replay: e.replay, ...window }];
    if (e.type === 'clock_skew') return [{ kind: 'clock_skew', sourceIds: [...e.sources], offsetMs: e.offset, ...window }];
    return [];
  });
}

/** Drafts of the selected sensor categories only (agents' status always goes out). */
export function selectedDrafts(drafts: readonly DraftMessage[], store: StoreConfig, only: readonly SourceCategory[] | undefined): DraftMessage[] {
  return drafts.filter(draftSelection(store, only));
}

/** Whether a draft is of a selected sensor category (selectedDrafts, one draft at a time). */
export function draftSelection(store: StoreConfig, only: readonly SourceCategory[] | undefined): (draft: DraftMessage) => boolean {
  if (only === undefined) return () => true;
  const wanted = new Set<string>(only);
  return (d) => {
    const category = sourceCategory(store, d.kind, d.sourceId);
    return category === undefined || wanted.has(category);
  };
}
