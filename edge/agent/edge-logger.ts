/** The agent's root pino logger: the gateway's redaction plus the agent's secrets (pseudonymisation key, Meraki secret, ingress token). */
import { pino, type Logger } from 'pino';

import { REDACT_PATHS } from '../../lib/logger.js';

export const EDGE_REDACT_PATHS = [
  ...REDACT_PATHS,
  'secret',
  '*.secret',
  'pseudonymise.secret',
  'sources.meraki.secret',
  'sources.ingress.token',
  'gateway.password',
  'gateway.key',
];

export function createEdgeLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: EDGE_REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid, part: 'edge' } },
    destination as pino.DestinationStream | undefined,
  );
}
