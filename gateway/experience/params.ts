/**
 * The experience engine's own parameters for zone assignment: textbook radio values with their
 * sources, or marked assumed (README.md explains each). Nothing here comes from the simulator: the
 * engine is measured against it, so its constants must not be read from it.
 */
export interface PresenceParams {
  /** Length of one observation step in event time, ms. */
  stepMs: number;
  /** Log-distance path-loss exponent n (indoor line of sight ~1.6-2.0, obstructed office/retail 2-3). */
  pathLossExponent: number;
  /** Standard deviation of the RSSI about the path-loss line (shadowing plus phone spread), dB. */
  shadowingSigmaDb: number;
  /** Offset added to every expected RSSI (the store's phones and scanners above or below the layout's rssiAt1m), dB; 0 unless calibrated. */
  gainOffsetDb: number;
  /**
   * Self-calibration (calibration.ts): refit `pathLossExponent`, `wallLossDb`, `gainOffsetDb`,
   * `shadowingSigmaDb` and `detectionMidpointDbm` to the store's own sightings before the final pass.
   */
  calibrate: boolean;
  /** Calibration: fit `gainOffsetDb` too (otherwise it stays as given: the layout's rssiAt1m trusted). */
  calibrationFitGain: boolean;
  /** Calibration: assignment → fit rounds. */
  calibrationRounds: number;
  /** Calibration: a heard step is used when it lies inside a decoded stay of at least this many steps (not at its first or last step). */
  calibrationMinRunSteps: number;
  /** Calibration: at most this many steps per device (evenly spaced), so devices present all hour (store beacons) do not dominate. */
  calibrationMaxStepsPerDevice: number;
  /** Loss per zone boundary crossed by the straight line from a position to a scanner, dB. */
  wallLossDb: number;
  /** Body/pocket losses the phone's RSSI may be lowered by, dB, equally likely (a per-step common offset). */
  carryOffsetsDb: readonly number[];
  /** Detection: chance a scanner catches an advertising phone in a step at a strong expected RSSI. */
  detectionMax: number;
  /** Detection: expected RSSI at which the chance is half of `detectionMax`, dBm. */
  detectionMidpointDbm: number;
  /** Detection: logistic slope, dB. */
  detectionSlopeDb: number;
  /** Spacing of the sample points in each zone rectangle, m. */
  sampleSpacingM: number;
  /**
   * Weight of one step's log-likelihood: successive steps' shadowing is correlated, so each step is
   * worth less than an independent observation (a tempered likelihood).
   */
  emissionWeight: number;
  /** Chance of staying in the zone from one step to the next (hysteresis). */
  selfTransition: number;
  /** The same in an entrance zone (one with a door): walked through on the way in and out, left sooner. */
  entranceSelfTransition: number;
  /** Minimum stay in a zone, in steps (a duration-expanded state space). */
  minStaySteps: number;
  /** Log prior weight of starting and ending a track outside an entrance zone (≤ 0). */
  nonEntrancePrior: number;
  /** A gap without any sighting longer than this ends a track (the device left, or a new visit), ms. */
  maxGapMs: number;
  /** Sensor clock offsets searched, ± ms. */
  maxClockOffsetMs: number;
  /** Time given to a zone the path only passes through during a silent run, ms (walked through). */
  passThroughMs: number;
  /** The final path: Viterbi again over the log posterior chances (forward-backward) instead of the emissions; stays, dwell and segments follow it. */
  posteriorPath: boolean;
  /** Zone per minute: a minute holding a step with evidence takes the zone of the largest posterior chance summed over its steps (posterior.ts), not the decoded segments' majority. */
  minutePosterior: boolean;
  /** Log-likelihood of a zone other than the one an anchor (a touchpoint interaction) names, in its step (the anchored zone: 0). */
  anchorMissLogLikelihood: number;
  /** In a silent run, an entrance zone (one with a door) is walked through: it gets `passThroughMs` of the run, the other zone the rest. */
  entranceWalkThrough: boolean;
  /**
   * A spell of other zones lasting at most this long between two stays of one zone is merged into
   * them: one stay (stays and dwell only; the zone per minute keeps the spell), ms; 0: off.
   */
  mergeSpellMs: number;
  /** A track is extended by this much before its first and after its last heard step (imputed: minutes only, not dwell), ms. */
  edgeExtendMs: number;
}

export const DEFAULT_PRESENCE_PARAMS: PresenceParams = {
  stepMs: 5_000,
  pathLossExponent: 2.0,
  shadowingSigmaDb: 6,
  wallLossDb: 3,
  gainOffsetDb: 0,
  calibrate: true,
  calibrationFitGain: false,
  calibrationRounds: 2,
  calibrationMinRunSteps: 6,
  calibrationMaxStepsPerDevice: 40,
  carryOffsetsDb: [0, -4, -8, -12],
  detectionMax: 0.9,
  detectionMidpointDbm: -90,
  detectionSlopeDb: 3,
  sampleSpacingM: 1.5,
  emissionWeight: 0.7,
  selfTransition: 0.97,
  entranceSelfTransition: 0.8,
  minStaySteps: 2,
  nonEntrancePrior: -2,
  maxGapMs: 15 * 60_000,
  maxClockOffsetMs: 150_000,
  edgeExtendMs: 120_000,
  mergeSpellMs: 45_000,
  passThroughMs: 10_000,
  anchorMissLogLikelihood: -12,
  entranceWalkThrough: true,
  minutePosterior: true,
  posteriorPath: true,
};
