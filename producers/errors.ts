/** Typed errors of the producer. Each names what went wrong and, for limits, which limit. */
import type { ContractError, ValidationIssue } from '../schemas/errors';

export type ProducerErrorCode =
  | 'EVENT_INVALID'
  | 'PARTITION_KEY_INVALID'
  | 'EXPLICIT_HASH_KEY_INVALID'
  | 'DATA_INVALID'
  | 'LIMIT_EXCEEDED'
  | 'BUFFER_FULL'
  | 'DELIVERY_FAILED'
  | 'PRODUCER_CLOSED';

export abstract class ProducerError extends Error {
  abstract readonly code: ProducerErrorCode;
  protected constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The event failed its contract: rejected before anything was sent. */
export class EventRejectedError extends ProducerError {
  readonly code = 'EVENT_INVALID' as const;
  readonly issues: readonly ValidationIssue[];
  constructor(readonly contractError: ContractError) {
    super(`event rejected, nothing sent: ${contractError.message}`, { cause: contractError });
    this.issues = contractError.issues;
  }
}

/** The partition key function failed or returned something that is not a usable key. */
export class PartitionKeyError extends ProducerError {
  readonly code = 'PARTITION_KEY_INVALID' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * `explicitHashKey` is not what PutRecordsRequestEntry.ExplicitHashKey accepts: a decimal string of the
 * pattern `0|([1-9]\d{0,38})` (Kinesis API reference, PutRecordsRequestEntry) within the 128-bit hash key
 * space 0..2^128-1 that partition keys are hashed into. Nothing was sent.
 */
export class ExplicitHashKeyError extends ProducerError {
  readonly code = 'EXPLICIT_HASH_KEY_INVALID' as const;
  constructor(message: string) {
    super(message);
  }
}

/**
 * The record's data is not a byte blob: `putRecord` got something other than a Uint8Array or string,
 * or `serialize` threw (e.g. a BigInt or a cycle in the event) or returned something else. Nothing was sent.
 */
export class RecordDataError extends ProducerError {
  readonly code = 'DATA_INVALID' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Names of the Kinesis limits the producer enforces before sending. */
export type KinesisLimit = 'PartitionKeyLength' | 'RecordSize';

/** A record breaks a Kinesis limit (PutRecords API reference): nothing was sent. */
export class RecordLimitError extends ProducerError {
  readonly code = 'LIMIT_EXCEEDED' as const;
  constructor(
    readonly limit: KinesisLimit,
    readonly actual: number,
    readonly maximum: number,
    message: string,
  ) {
    super(message);
  }
}

/** `put` waited longer than `maxPutWaitMs` for buffer room (backpressure). Nothing was sent. */
export class BufferFullError extends ProducerError {
  readonly code = 'BUFFER_FULL' as const;
  constructor(message: string) {
    super(message);
  }
}

export type DeliveryFailureReason = 'attempts-exhausted' | 'time-exhausted' | 'non-retryable';

/**
 * The record could not be written: retries were exhausted (by attempts or time) or the error is not
 * retryable. Carries the event (or raw data) so the caller can quarantine it; never logged.
 */
export class DeliveryError extends ProducerError {
  readonly code = 'DELIVERY_FAILED' as const;
  constructor(
    /** The event given to `put` (or the raw record given to `putRecord`). */
    readonly event: unknown,
    readonly partitionKey: string,
    /** Last Kinesis error code (e.g. `ProvisionedThroughputExceededException`) or network error name. */
    readonly errorCode: string,
    readonly attempts: number,
    readonly reason: DeliveryFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ProducerClosedError extends ProducerError {
  readonly code = 'PRODUCER_CLOSED' as const;
  constructor() {
    super('producer is closed: put() after close()');
  }
}
