/** The root pino logger of a storeloop process; modules take `log.child({ module })`. */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  'token',
  '*.password',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'influx.password',
  'influx.token',
  'config.influx.password',
  'config.influx.token',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } }, destination as pino.DestinationStream | undefined);
}
