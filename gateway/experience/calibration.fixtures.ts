/** Synthetic calibration steps for the calibration tests (test support: not in the build). */
import { DEMO_STORE, StoreSchema } from '../../config/index.js';
import type { Rect } from '../../config/index.js';
import { CalibrationGeometry, type CalibrationStep, type RadioFit } from './calibration.js';
import { wallsBetween } from './emission.js';
import { DEFAULT_PRESENCE_PARAMS } from './params.js';
import { presenceStore } from './store-model.js';

export const STORE = presenceStore(StoreSchema.parse(DEMO_STORE));
export const GEOMETRY = new CalibrationGeometry(STORE, DEFAULT_PRESENCE_PARAMS.sampleSpacingM);

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Steps of phones at random points of random zones, read through a log-distance radio with parameters `truth`. */
export function synthetic(truth: RadioFit, count: number, seed: number): CalibrationStep[] {
  const rand = prng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const all = new Set(STORE.scanners.keys());
  const out: CalibrationStep[] = [];
  while (out.length < count) {
    const zone = Math.floor(rand() * STORE.zones.length);
    const rect = STORE.rects.get(STORE.zones[zone] as string) as Rect;
    const p = { x: rect.x + rand() * rect.width, y: rect.y + rand() * rect.height };
    const carry = DEFAULT_PRESENCE_PARAMS.carryOffsetsDb[Math.floor(rand() * DEFAULT_PRESENCE_PARAMS.carryOffsetsDb.length)] as number;
    const heard = new Map<string, number>();
    for (const s of STORE.scanners.values()) {
      const d = Math.max(0.5, Math.hypot(p.x - s.x, p.y - s.y));
      const mu = s.rssiAt1m + truth.gainOffsetDb + carry - 10 * truth.pathLossExponent * Math.log10(d) - wallsBetween(STORE, p, s) * truth.wallLossDb;
      // the receiver catches the power it receives: detection acts on the reading
      const reading = mu + truth.shadowingSigmaDb * gauss();
      const det = DEFAULT_PRESENCE_PARAMS.detectionMax / (1 + Math.exp((truth.detectionMidpointDbm - reading) / DEFAULT_PRESENCE_PARAMS.detectionSlopeDb));
      if (rand() < det) heard.set(s.id, Math.round(reading));
    }
    if (heard.size > 0) out.push({ heard, reporting: all, zone });
  }
  return out;
}
