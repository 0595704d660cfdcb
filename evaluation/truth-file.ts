/** Reads a simulator's ground truth file (simulators/README.md) and checks the parts the evaluation uses. */
import { readFile } from 'node:fs/promises';

import { z } from 'zod';

import type { EvaluationTruth } from './evaluate.js';

const StaySchema = z.object({ zone: z.string(), from: z.number(), to: z.number() });

const TruthSchema = z.object({
  generator: z.literal('storeloop-simulator'),
  truthVersion: z.literal(1),
  seed: z.number(),
  storeId: z.string(),
  windowStart: z.number(),
  windowEnd: z.number(),
  floorPlan: z.object({
    entrances: z.array(z.string()),
    touchpoints: z.array(z.object({ id: z.string(), zone: z.string() }).passthrough()),
  }),
  visits: z.array(
    z.object({
      visitor: z.string(),
      app: z.boolean(),
      beacon: z.string().optional(),
      phone: z.boolean(),
      randomizedMac: z.boolean(),
      wifiPseudonyms: z.array(z.string()),
      enteredAt: z.number(),
      leftAt: z.number().nullable(),
      path: z.array(StaySchema),
    }),
  ),
  interactions: z.array(z.object({ touchpoint: z.string(), action: z.string(), ts: z.number(), visit: z.string(), beacon: z.string().optional() })),
  footfall: z.array(z.object({ counter: z.string(), zone: z.string().nullable() })),
  // absent in truths written before passers-by
  captureRate: z.object({ entered: z.number(), passersBy: z.number(), rate: z.number().nullable() }).optional(),
});

/** Parses a truth object; throws naming the first bad key path. */
export function parseTruth(raw: unknown, file = 'truth'): EvaluationTruth {
  const parsed = TruthSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: not a storeloop simulator truth (truthVersion 1): ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  // the schema checks every member the evaluation reads; the rest of the truth is not needed
  return parsed.data as unknown as EvaluationTruth;
}

export async function readTruthFile(file: string): Promise<EvaluationTruth> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read truth file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseTruth(raw, file);
}
