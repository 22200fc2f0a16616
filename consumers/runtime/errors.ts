/**
 * Errors a handler throws to steer the runtime. Anything else a handler throws is transient:
 * the record is reported in `batchItemFailures` and Lambda redelivers it.
 */

const PERMANENT = Symbol.for('kinesis-pipeline.PermanentError');

/**
 * Throw from a handler when retrying can never help (the event is valid by contract but cannot be
 * processed, e.g. it refers to something that does not exist). The record is quarantined with this
 * error's message and the shard moves on.
 */
export class PermanentError extends Error {
  /** Brand checked by `isPermanentError`, so the class survives duplicated module copies in a bundle. */
  readonly [PERMANENT] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** True for a `PermanentError` (also one from another copy of this module). */
export function isPermanentError(error: unknown): error is PermanentError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[PERMANENT] === true;
}

/**
 * The runtime found something that cannot happen with a well-formed Lambda event or a correct runtime
 * (a bug, a mis-wired trigger). It is thrown out of the Lambda handler so the invocation fails and
 * Lambda's retry / BisectBatchOnFunctionError can isolate the batch ("Lambda with Kinesis": error handling).
 */
export class RuntimeInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeInvariantError';
  }
}

/** Invalid runtime options or environment, reported when the handler is created (at cold start). */
export class RuntimeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeConfigError';
  }
}
