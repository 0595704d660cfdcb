/**
 * What the open-loop scenarios share: their total rate (--rate when given, else a share of the
 * acknowledged rate the closed-loop mosquitto scenario measured earlier in the same run, so the
 * latency figure is taken at a load the reference broker is known to carry twice over) and the
 * figures and facts they report about keeping to it.
 */
import { OPEN_LOOP_MAX_INFLIGHT, type FleetPacing, type LoadResult } from './load.js';
import type { OpenLoopFigures, ScenarioContext } from './scenario.js';

/** The open-loop rate as a share of mosquitto's closed-loop acknowledged rate. */
export const OPEN_LOOP_SHARE_OF_REFERENCE = 0.5;
/** The closed-loop scenario whose measured rate sets the open-loop rate. */
export const RATE_REFERENCE_SCENARIO = 'mosquitto';

export interface OpenLoopRate {
  /** Messages/s over all publishers. */
  totalRate: number;
  /** Where the rate came from, for the report. */
  source: string;
}

/** The rate for an open-loop scenario of this run; throws when neither --rate nor the reference result is there. */
export function openLoopRate(ctx: Pick<ScenarioContext, 'options' | 'earlier'>): OpenLoopRate {
  if (ctx.options.openLoopRate !== undefined) return { totalRate: ctx.options.openLoopRate, source: '--rate' };
  const reference = ctx.earlier.find((r) => r.id === RATE_REFERENCE_SCENARIO);
  if (reference === undefined || reference.kind !== 'closed-loop' || !(reference.messagesPerSecond > 0)) {
    throw new Error(`no open-loop rate: the '${RATE_REFERENCE_SCENARIO}' scenario did not complete earlier in this run and --rate was not given`);
  }
  const totalRate = Math.round(reference.messagesPerSecond * OPEN_LOOP_SHARE_OF_REFERENCE);
  return {
    totalRate,
    source: `${OPEN_LOOP_SHARE_OF_REFERENCE} × ${RATE_REFERENCE_SCENARIO}'s ${Math.round(reference.messagesPerSecond).toLocaleString('en-US')} msg/s`,
  };
}

/** A load scenario's pacing: closed-loop with --inflight per publisher, or open-loop at this run's rate (and where it came from). */
export function scenarioPacing(
  ctx: Pick<ScenarioContext, 'options' | 'earlier'>,
  mode: 'closed-loop' | 'open-loop',
): { pacing: FleetPacing; rate: OpenLoopRate | undefined } {
  if (mode === 'closed-loop') return { pacing: { mode, inflight: ctx.options.inflight }, rate: undefined };
  const rate = openLoopRate(ctx);
  return { pacing: { mode, totalRate: rate.totalRate }, rate };
}

export function openLoopFigures(rate: OpenLoopRate, load: LoadResult): OpenLoopFigures {
  return {
    targetRate: rate.totalRate,
    rateSource: rate.source,
    scheduledInWindow: load.scheduledInWindow,
    missed: load.missed,
    sendLag: load.sendLag.summary(),
  };
}

/** The facts every open-loop scenario prints: the rate, and whether the publishers kept to it. */
export function openLoopFacts(rate: OpenLoopRate, load: LoadResult): Array<[string, string]> {
  const lag = load.sendLag.summary();
  return [
    ['open-loop rate', `${rate.totalRate.toLocaleString('en-US')} msg/s in total (${rate.source}), PUBACK latency from each message's scheduled send time`],
    [
      'publishers behind their schedule (send lag)',
      `p50 ${lag.p50Ms.toFixed(2)} / p99 ${lag.p99Ms.toFixed(2)} / max ${lag.maxMs.toFixed(1)} ms; ${load.missed} messages due by the end not sent ` +
        `(beyond a few, the ${OPEN_LOOP_MAX_INFLIGHT}-per-publisher in-flight cap was reached; they count in the PUBACK figures with the time they had waited)`,
    ],
  ];
}
