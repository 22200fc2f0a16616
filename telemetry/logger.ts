/**
 * The one way this project creates loggers: pino JSON lines, level from the environment
 * (configuration, not code), personal data redacted by path before anything is serialised.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths redacted in every logger. Events are never logged whole, but a careless `log.info({ event })`
 * must still not leak an address or e-mail: these cover the order contracts' personal fields.
 */
export const DEFAULT_REDACT_PATHS: readonly string[] = [
  'event.data.customer',
  'event.data.shippingAddress',
  '*.data.customer',
  '*.data.shippingAddress',
  'credentials',
  '*.credentials',
  'secretAccessKey',
  '*.secretAccessKey',
  'authorization',
  '*.authorization',
];

export interface CreateLoggerOptions {
  /** Logger name (the component), e.g. `order-metrics` or `producer`. */
  name: string;
  /** Level; defaults to env LOG_LEVEL, else `info`. */
  level?: string;
  /** Extra paths to redact, in pino's path syntax. */
  redact?: readonly string[];
  /** Fields bound to every line. */
  base?: Record<string, unknown>;
  /** Where lines go (default stdout); tests pass a stream to read lines back. */
  destination?: DestinationStream;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    base: { ...options.base },
    redact: { paths: [...DEFAULT_REDACT_PATHS, ...(options.redact ?? [])], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
