/** Errors of the wifi sources. Contexts hold settings and counts, never an address, SSID or secret. */
import { StoreloopError } from '../../lib/errors.js';

export type WifiSourceErrorCode =
  /** Receiver options that cannot work (missing validator, consented pseudonymiser, bad source id). */
  | 'SL_ERR_MERAKI_CONFIG'
  /** The receiver could not listen on its host and port. */
  | 'SL_ERR_MERAKI_LISTEN'
  /** Probe capture options that cannot work (no input, bad interval). */
  | 'SL_ERR_PROBE_CONFIG';

export class WifiSourceError extends StoreloopError {
  constructor(code: WifiSourceErrorCode, message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, options.context, { cause: options.cause });
  }
}
