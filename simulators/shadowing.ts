/**
 * Shadowing correlated over time and space, one first-order autoregressive process per
 * transmitter–scanner link (Gudmundson 1991, Electronics Letters 27(23), 2145-2146: the shadowing's
 * autocorrelation falls as exp(−Δx / d_c) with the distance moved). A still phone's shadowing
 * decorrelates too, with time (people and trolleys moving around), so between two samples of a link
 * ρ = exp(−Δx / d_c − Δt / τ) and s' = ρ·s + σ·√(1 − ρ²)·N(0, 1): stationary N(0, σ²) at every step.
 */
import type { Point } from './floor-plan.js';
import type { Rng } from './prng.js';

export interface ShadowingParams {
  sigmaDb: number;
  decorrelationM: number;
  decorrelationS: number;
}

interface LinkState {
  valueDb: number;
  ts: number;
  at: Point;
}

/** The shadowing of every link, advanced one sample at a time (samples of a link in ascending time). */
export class ShadowingField {
  /** Owner (a visitor, the fixed beacons) → link → state, so a visitor who left is forgotten at once. */
  private readonly owners = new Map<string, Map<string, LinkState>>();

  constructor(private readonly params: ShadowingParams) {}

  /** The link's shadowing at `ts` with the transmitter at `at`, dB. Draws exactly one number from `rng`. */
  sample(owner: string, link: string, ts: number, at: Point, rng: Rng): number {
    const { sigmaDb, decorrelationM, decorrelationS } = this.params;
    const innovation = rng.normal(0, 1);
    let links = this.owners.get(owner);
    if (links === undefined) {
      links = new Map();
      this.owners.set(owner, links);
    }
    const last = links.get(link);
    let valueDb: number;
    if (last === undefined) {
      valueDb = sigmaDb * innovation;
    } else {
      const moved = Math.hypot(at.x - last.at.x, at.y - last.at.y);
      const rho = Math.exp(-moved / decorrelationM - (ts - last.ts) / 1000 / decorrelationS);
      valueDb = rho * last.valueDb + sigmaDb * Math.sqrt(1 - rho * rho) * innovation;
    }
    links.set(link, { valueDb, ts, at });
    return valueDb;
  }

  /** Forgets every link of an owner (a visitor who left). */
  forget(owner: string): void {
    this.owners.delete(owner);
  }
}
