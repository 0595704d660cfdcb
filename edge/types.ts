/**
 * What the edge agent's parts hand each other. Sources (BLE, wifi, local devices and touchpoints)
 * produce contract payloads without `mid`; the agent stamps `mid`, queues them on disk and publishes.
 * Nothing here may hold a raw MAC or device address: sources pseudonymise before they emit.
 */
import type { BleMessage, DeviceMessage, StatusMessage, TouchpointMessage, WifiMessage } from '../protocol/index.js';

/** A contract message as a source emits it: the agent adds `mid` (agent id + sequence number). */
export type SourcePayload =
  | { kind: 'ble'; sourceId: string; payload: Omit<BleMessage, 'mid'> }
  | { kind: 'wifi'; sourceId: string; payload: Omit<WifiMessage, 'mid'> }
  | { kind: 'device'; sourceId: string; payload: Omit<DeviceMessage, 'mid'> }
  | { kind: 'touchpoint'; sourceId: string; payload: Omit<TouchpointMessage, 'mid'> };

/** Health of one source, reported in the agent's retained `status`. */
export interface SourceHealth {
  name: string;
  state: 'ok' | 'degraded' | 'down' | 'disabled';
  detail?: string;
  /** Epoch ms of the last item this source produced. */
  lastItemAt?: number;
}

/** A long-lived input of the agent (zigbee2mqtt shape: the constructor stores, start/stop do the work). */
export interface EdgeSource {
  readonly name: string;
  start(emit: (message: SourcePayload) => void): Promise<void>;
  stop(): Promise<void>;
  health(): SourceHealth;
}

export type { StatusMessage };
