/** The corridor HMM the Viterbi and posterior tests share (test support: not in the build). */
import type { HmmModel } from './viterbi.js';

/** A corridor A – B – C: A and C are not adjacent; A is the entrance. */
export const MODEL: HmmModel = {
  zones: ['A', 'B', 'C'],
  adjacency: { A: ['B'], B: ['A', 'C'], C: ['B'] },
  entrances: new Set(['A']),
  selfTransition: 0.97,
  minStaySteps: 2,
  nonEntrancePrior: 0,
};

/** An emission favouring `zone` by `margin` nats over the others. */
export function favour(zone: 'A' | 'B' | 'C', margin = 3): Float64Array {
  return Float64Array.from(MODEL.zones.map((z) => (z === zone ? 0 : -margin)));
}
