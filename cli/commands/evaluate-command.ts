/** `storeloop evaluate`: a simulator run's signals in InfluxDB against its ground truth (docs/simulator.md#evaluate). */
import { loadConfig } from '../../config/index.js';
import { readEngineEvents } from '../../evaluation/engine-events.js';
import { DEFAULT_SETTLE_MS, evaluateEngine } from '../../evaluation/engine-figures.js';
import { evaluate, evaluationJson, formatEvaluation, type Evaluation } from '../../evaluation/evaluate.js';
import { readSignals } from '../../evaluation/signals.js';
import { readTruthFile } from '../../evaluation/truth-file.js';
import { InfluxQuery } from '../../gateway/influx/influx-query.js';

export interface EvaluateOptions {
  truth: string;
  json?: boolean;
  config?: string;
  /** The engine's figures cover visitors who left at least this long before the window's end (its visits are final by then). */
  settleMs?: number;
}

/** Reads the truth, the run's signals from the configured InfluxDB, prints the report; returns it. */
export async function runEvaluateCommand(options: EvaluateOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<Evaluation> {
  const truth = await readTruthFile(options.truth);
  const config = loadConfig(options.config);
  const query = new InfluxQuery(config.influx);
  const signals = await readSignals(query, truth.storeId, truth.windowStart, truth.windowEnd);
  const engineEvents = await readEngineEvents(query, truth.storeId, truth.windowStart, truth.windowEnd);
  const wroteAny = engineEvents.visits.length + engineEvents.passersBy.length + engineEvents.occupancy.size > 0;
  const result: Evaluation = {
    ...evaluate(truth, signals),
    engine: wroteAny ? evaluateEngine(truth, engineEvents, options.settleMs ?? DEFAULT_SETTLE_MS) : null,
  };
  out(options.json === true ? `${JSON.stringify(evaluationJson(result))}\n` : formatEvaluation(result));
  return result;
}
