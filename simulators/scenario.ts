/**
 * Scenarios for testers: a small YAML file of timed events played into a simulation (a scanner or an
 * agent offline for a while, a crowd surge, a sensor's clock skewed, an InfluxDB outage window, a
 * touchpoint out of order) and which sensors publish at all. Validated like the config: every problem
 * is named with its place in the file. Times are offsets from the simulated window's start.
 */
import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import type { StoreConfig } from '../config/index.js';
import { parseDuration } from '../lib/duration.js';
import { SimulationOptionsError } from './errors.js';

/** What `only` selects: which sensors publish (agents' status always does). */
export const SOURCE_CATEGORIES = ['ble', 'wifi', 'touchpoint', 'counter', 'shelf', 'environment'] as const;
export type SourceCategory = (typeof SOURCE_CATEGORIES)[number];

const DURATION_HELP = 'expected a duration such as 90s, 5m, 1h30m';

/** A duration (`5m`, `90s`; a bare number is seconds) as milliseconds. */
const DurationSchema = z.union([z.string(), z.number().nonnegative()]).transform((value, ctx) => {
  try {
    return parseDuration(String(value));
  } catch {
    ctx.addIssue({ code: 'custom', message: `${DURATION_HELP}, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
});

/** A signed duration (`-2m`, `+90s`, `45s`) as milliseconds. */
const SignedDurationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = String(value).trim();
  const sign = text.startsWith('-') ? -1 : 1;
  try {
    return sign * parseDuration(text.replace(/^[-+]/, ''));
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a signed duration such as -2m or 90s, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
});

const ids = z.array(z.string().min(1)).min(1);
const timed = { at: DurationSchema, for: DurationSchema.refine((ms) => ms > 0, 'expected a duration above 0') };

export const ScenarioEventSchema = z.discriminatedUnion('type', [
  /** Sensors, touchpoints or devices that record nothing for a while (power cut, unplugged): their messages are lost. */
  z.strictObject({ type: z.literal('sensor_offline'), ...timed, sources: ids }),
  /**
   * An edge agent that loses its uplink: with `replay` (default) it buffers its sources' messages and
   * sends them, late, when the link is back (as the edge agent's queue does); without, they are lost.
   */
  z.strictObject({ type: z.literal('agent_offline'), ...timed, agent: z.string().min(1), replay: z.boolean().default(true) }),
  /** Sources whose clock runs `offset` ahead (negative: behind) for a while: their messages are stamped with it. */
  z.strictObject({ type: z.literal('clock_skew'), ...timed, sources: ids, offset: SignedDurationSchema }),
  /** Arrivals at `factor` times the usual rate (below 1: a lull). */
  z.strictObject({ type: z.literal('crowd_surge'), ...timed, factor: z.number().positive().max(20) }),
  /** Touchpoints that cannot be used for a while: visitors who come up to them leave without an interaction. */
  z.strictObject({ type: z.literal('touchpoint_out_of_order'), ...timed, touchpoints: ids }),
  /**
   * InfluxDB down for a while. The simulator cannot stop a database by itself: `storeloop demo` stops
   * and restarts its own influxd; `storeloop simulate` runs the event's `stop` and `start` shell commands.
   */
  z.strictObject({
    type: z.literal('influx_outage'),
    ...timed,
    stop: z.string().min(1).optional(),
    start: z.string().min(1).optional(),
  }),
]);

export const ScenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected lowercase letters, digits and dashes'),
  description: z.string().optional(),
  /** Which sensors publish (default: all); `storeloop simulate --only` overrides it. */
  only: z.array(z.enum(SOURCE_CATEGORIES)).min(1).optional(),
  events: z.array(ScenarioEventSchema).default([]),
});

/** A scenario as the file says it (durations in ms). */
export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioEvent = Scenario['events'][number];
export type ScenarioEventType = ScenarioEvent['type'];

export class ScenarioError extends SimulationOptionsError {}

/** Validates a parsed scenario; throws ScenarioError listing every problem with its path. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const parsed = ScenarioSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`);
  throw new ScenarioError(`invalid scenario ${source}:\n  ${problems.join('\n  ')}`, problems);
}

/** Reads and validates a scenario file (YAML, or JSON which is YAML too). */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`cannot read scenario ${file}: ${(err as Error).message}`, [`${file}: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ScenarioError(`scenario ${file} is not valid YAML: ${(err as Error).message}`, [`${file}: ${(err as Error).message}`]);
  }
  return parseScenario(raw, file);
}

/**
 * The problems of a scenario against the store and the window it runs in: unknown ids, events that
 * start after the window ends. Empty when it fits.
 */
export function scenarioProblems(scenario: Scenario, store: StoreConfig, durationMs: number): string[] {
  const problems: string[] = [];
  const sources = new Set([...store.sensors, ...store.touchpoints, ...store.devices].map((s) => s.id));
  const touchpoints = new Set(store.touchpoints.map((t) => t.id));
  const agents = new Set(store.agents.map((a) => a.id));
  const unknown = (list: readonly string[], known: ReadonlySet<string>) => list.filter((id) => !known.has(id));
  scenario.events.forEach((event, i) => {
    const at = `scenario.events.${i} (${event.type})`;
    if (event.at >= durationMs) problems.push(`${at}: starts at ${event.at / 1000} s, after the window's end (${durationMs / 1000} s)`);
    if (event.type === 'sensor_offline' || event.type === 'clock_skew') {
      const bad = unknown(event.sources, sources);
      if (bad.length > 0) problems.push(`${at}: unknown sources ${bad.join(', ')} (store ${store.id} has ${[...sources].join(', ')})`);
    }
    if (event.type === 'touchpoint_out_of_order') {
      const bad = unknown(event.touchpoints, touchpoints);
      if (bad.length > 0) problems.push(`${at}: unknown touchpoints ${bad.join(', ')} (store ${store.id} has ${[...touchpoints].join(', ') || 'none'})`);
    }
    if (event.type === 'agent_offline' && !agents.has(event.agent))
      problems.push(`${at}: unknown agent ${event.agent} (store ${store.id} has ${[...agents].join(', ') || 'none'})`);
  });
  return problems;
}

/** The window [from, to) of an event as epoch ms, clipped to the simulated window's end. */
export function eventWindow(event: ScenarioEvent, startMs: number, endMs: number): { from: number; to: number } {
  return { from: startMs + event.at, to: Math.min(endMs, startMs + event.at + event.for) };
}

/** The category a source's messages fall under for `only`; status (agents) has none: it always publishes. */
export function sourceCategory(store: StoreConfig, kind: string, sourceId: string): SourceCategory | undefined {
  if (kind === 'ble' || kind === 'wifi' || kind === 'touchpoint') return kind;
  if (kind !== 'device') return undefined;
  const type = store.devices.find((d) => d.id === sourceId)?.type;
  if (type === 'people_counter') return 'counter';
  if (type === 'smart_shelf') return 'shelf';
  if (type === 'environment') return 'environment';
  return undefined;
}

/** Parses `--only ble,touchpoint`; throws naming the bad entry. */
export function parseOnly(text: string): SourceCategory[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const bad = parts.filter((p) => !(SOURCE_CATEGORIES as readonly string[]).includes(p));
  if (parts.length === 0 || bad.length > 0) throw new Error(`--only: expected a comma-separated list of ${SOURCE_CATEGORIES.join(', ')}, got '${text}'`);
  return parts as SourceCategory[];
}
