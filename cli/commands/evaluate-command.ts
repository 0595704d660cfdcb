/** `storeloop evaluate`: a simulator run's signals in InfluxDB against its ground truth (docs/simulator.md#evaluate). */
import { loadConfig } from '../../config/index.js';
import { evaluate, evaluationJson, formatEvaluation, type Evaluation } from '../../evaluation/evaluate.js';
import { readSignals } from '../../evaluation/signals.js';
import { readTruthFile } from '../../evaluation/truth-file.js';
import { InfluxQuery } from '../../gateway/influx/influx-query.js';

export interface EvaluateOptions {
  truth: string;
  json?: boolean;
  config?: string;
}

/** Reads the truth, the run's signals from the configured InfluxDB, prints the report; returns it. */
export async function runEvaluateCommand(options: EvaluateOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<Evaluation> {
  const truth = await readTruthFile(options.truth);
  const config = loadConfig(options.config);
  const signals = await readSignals(new InfluxQuery(config.influx), truth.storeId, truth.windowStart, truth.windowEnd);
  const result = evaluate(truth, signals);
  out(options.json === true ? `${JSON.stringify(evaluationJson(result))}\n` : formatEvaluation(result));
  return result;
}
