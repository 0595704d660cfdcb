/** Eddystone-TLM frames as the contract's `environment` device event. Pure. */
import { EnvironmentEventSchema, type DeviceEvent } from '../../protocol/index.js';
import type { EddystoneTlmFrame } from './beacon-parser.js';

export type EnvironmentEvent = Extract<DeviceEvent, { type: 'environment' }>;

/** eddystone-tlm/tlm-plain.md: TEMP 0x8000 (-128 °C) means the beacon has no temperature sensor. */
const TEMPERATURE_NOT_SUPPORTED = -32768;

export type TlmTelemetry = { ok: true; event: EnvironmentEvent } | { ok: false; reason: 'no-readings' | 'out-of-range' };

/**
 * `battery_mv` and `temperature_c` of a TLM frame; the spec's "not supported" values (VBATT 0, TEMP
 * 0x8000) are left out, and a frame with neither reading gives no event.
 */
export function environmentFromTlm(frame: EddystoneTlmFrame): TlmTelemetry {
  const event: EnvironmentEvent = {
    type: 'environment',
    ...(frame.batteryMillivolts === 0 ? {} : { battery_mv: frame.batteryMillivolts }),
    ...(frame.temperatureRaw === TEMPERATURE_NOT_SUPPORTED ? {} : { temperature_c: frame.temperatureCelsius }),
  };
  if (event.battery_mv === undefined && event.temperature_c === undefined) return { ok: false, reason: 'no-readings' };
  return EnvironmentEventSchema.safeParse(event).success ? { ok: true, event } : { ok: false, reason: 'out-of-range' };
}
