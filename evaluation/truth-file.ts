/**
 * Reads a simulator's ground truth file (docs/simulator.md#ground-truth) and checks the parts the
 * evaluation uses: a file of another version, or with a member missing or of the wrong type, is
 * refused with a message naming it.
 */
import { readFile } from 'node:fs/promises';

import { z } from 'zod';

import { MINUTE_MS } from '../simulators/truth-minutes.js';
import type { EvaluationTruth } from './evaluate.js';

/** The truth version this evaluation reads. */
export const TRUTH_VERSION = 2;

const StaySchema = z.object({ zone: z.string(), from: z.number(), to: z.number() });

const TruthSchema = z.object({
  generator: z.literal('storeloop-simulator'),
  truthVersion: z.literal(TRUTH_VERSION),
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
      /** When the app advertised its beacon (absent: no app, or a truth written before intermittent advertising). */
      advertising: z.array(z.object({ from: z.number(), to: z.number() })).optional(),
      phone: z.boolean(),
      randomizedMac: z.boolean(),
      wifiPseudonyms: z.array(z.string()),
      enteredAt: z.number(),
      leftAt: z.number().nullable(),
      path: z.array(StaySchema),
      minutes: z.object({
        start: z.number().refine((t) => t % MINUTE_MS === 0, 'must be the epoch ms of a clock minute'),
        zones: z.array(z.string().nullable()),
      }),
      stays: z.array(
        z.object({ zone: z.string(), enter: z.number(), exit: z.number(), dwellMs: z.number().nonnegative(), passing: z.literal(true).optional() }),
      ),
      route: z.array(z.string()),
    }),
  ),
  interactions: z.array(z.object({ touchpoint: z.string(), action: z.string(), ts: z.number(), visit: z.string(), beacon: z.string().optional() })),
  exposures: z.array(
    z.object({
      touchpoint: z.string(),
      visitor: z.string(),
      from: z.number(),
      to: z.number(),
      inSightMs: z.number().nonnegative(),
      interacted: z.boolean(),
      interactedAt: z.number().optional(),
    }),
  ),
  footfall: z.array(z.object({ counter: z.string(), zone: z.string().nullable() })),
  // absent in truths written before passers-by
  captureRate: z.object({ entered: z.number(), passersBy: z.number(), rate: z.number().nullable() }).optional(),
});

/** Parses a truth object; throws naming an older or unknown version, or the first bad key path. */
export function parseTruth(raw: unknown, file = 'truth'): EvaluationTruth {
  const head = z.object({ generator: z.literal('storeloop-simulator'), truthVersion: z.number() }).safeParse(raw);
  if (head.success && head.data.truthVersion !== TRUTH_VERSION) {
    const version = head.data.truthVersion;
    throw new Error(
      version < TRUTH_VERSION
        ? `${file}: truthVersion ${version} is older than this evaluation reads (${TRUTH_VERSION}): it has no visits[].minutes, visits[].stays or exposures; write the truth again with this version's storeloop simulate --truth`
        : `${file}: truthVersion ${version} is newer than this evaluation reads (${TRUTH_VERSION}); evaluate it with the storeloop that wrote it`,
    );
  }
  const parsed = TruthSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: not a storeloop simulator truth (truthVersion ${TRUTH_VERSION}): ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
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
