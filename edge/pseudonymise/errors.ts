/** Errors of edge/pseudonymise. A context never holds the raw identifier, only its kind and length. */
import { StoreloopError } from '../../lib/errors.js';

export type PseudonymiseErrorCode =
  /** Options that cannot give a safe pseudonymiser (short secret, unknown mode, bad timezone). */
  | 'SL_ERR_PSEUDONYMISE_CONFIG'
  /** An identifier that is not of the kind it claims (e.g. a wifi-mac that is not a MAC). */
  | 'SL_ERR_PSEUDONYMISE_INPUT'
  /** An identifier kind the mode must not hash (a wifi MAC in `consented` mode). */
  | 'SL_ERR_PSEUDONYMISE_NOT_ALLOWED';

export class PseudonymiseError extends StoreloopError {
  constructor(code: PseudonymiseErrorCode, message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, options.context, { cause: options.cause });
  }
}
