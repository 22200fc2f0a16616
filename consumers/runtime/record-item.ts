/**
 * One user record moving through an invocation. Allocated once per record and doubling as the
 * `RecordMeta` handed to handlers, so the hot path allocates nothing else per record.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import type { Logger } from '../../telemetry/logger';
import type { AnyEvent, PermanentFailureKind, RecordMeta, TransientFailureKind } from './types';
import type { ValidationIssue } from '../../schemas/index';

/** Processing state of an item. */
export enum ItemStatus {
  /** Not started yet. */
  Pending = 0,
  /** Handler running (async). */
  Running = 1,
  /** Handled (or no handler for its type). */
  Done = 2,
  /** Skipped: its event id was already handled. */
  Duplicate = 3,
  /** Permanent failure waiting for the quarantine write. */
  ToQuarantine = 4,
  /** Written to the quarantine sink. */
  Quarantined = 5,
  /** Must be redelivered (transient failure, blocked, not started). */
  Retry = 6,
  /** Matched none of the consumer's record filter patterns: not handled, counts as processed. */
  Filtered = 7,
}

export interface PermanentFailure {
  readonly kind: PermanentFailureKind;
  readonly message: string;
  readonly issues?: readonly ValidationIssue[];
  /** Deliveries that failed the same way (poison records, rule 13). */
  readonly attempts?: number;
}

/** What the records of one invocation share (one object per batch, not per record). */
export interface BatchInfo {
  readonly shardId: string;
  readonly log: Logger;
  /**
   * The invocation has returned its response (timeout guard): a record still waiting to start must
   * not start any more (it was reported for redelivery).
   */
  closed?: boolean;
  /** Lease of an idempotency claim made in this invocation (ms): until the invocation is over for certain. */
  leaseMs?: number;
  /** Handlers (or reducer steps) that ran and succeeded in this invocation: evidence the downstream works (rule 13). */
  handlerSuccesses?: number;
}

/** Where a user record sits inside a KPL aggregate. */
export interface AggregatedPart {
  readonly subSequenceNumber: number;
  readonly explicitHashKey: string | undefined;
  /** The user record's bytes (a view into the aggregate). */
  readonly data: Uint8Array;
}

export class RecordItem implements RecordMeta {
  status: ItemStatus = ItemStatus.Pending;
  /** The validated event while the record runs (released when it is done, so a batch does not pin every event). */
  event: AnyEvent | undefined = undefined;
  eventId: string | undefined = undefined;
  eventType: string | undefined = undefined;
  eventVersion: number | undefined = undefined;
  /** The envelope's traceId (logged beside the invocation's X-Ray trace id). */
  traceId: string | undefined = undefined;
  permanent: PermanentFailure | undefined = undefined;
  transient: TransientFailureKind | undefined = undefined;
  transientError: unknown = undefined;
  /** The parsed JSON of a record that failed validation (to report its id/type/version). */
  rawValue: unknown = undefined;
  /** Next item of the same partition key waiting behind this one (async scheduling only). */
  next: RecordItem | undefined = undefined;
  /** Settles when the record's execution has ended (async records only; rule 5 across invocations). */
  pending: Promise<void> | undefined = undefined;
  private childLog: Logger | undefined = undefined;

  constructor(
    /** The Kinesis record as Lambda delivered it. */
    readonly source: KinesisStreamRecord,
    readonly sequenceNumber: string,
    /** The user record's partition key (the Kinesis record's for a plain record). */
    readonly partitionKey: string,
    readonly batch: BatchInfo,
    /** Set for a user record of a KPL aggregate. */
    readonly part: AggregatedPart | undefined,
  ) {}

  get subSequenceNumber(): number | undefined {
    return this.part?.subSequenceNumber;
  }

  get explicitHashKey(): string | undefined {
    return this.part?.explicitHashKey;
  }

  /** User record bytes of an aggregate; undefined for plain records (data is in `source`). */
  get userData(): Uint8Array | undefined {
    return this.part?.data;
  }

  get shardId(): string {
    return this.batch.shardId;
  }

  get streamArn(): string {
    return this.source.eventSourceARN;
  }

  get approximateArrivalTimestamp(): number {
    return this.source.kinesis.approximateArrivalTimestamp;
  }

  get arrivalTimeMs(): number {
    return Math.round(this.approximateArrivalTimestamp * 1000);
  }

  get log(): Logger {
    if (this.childLog === undefined) {
      this.childLog = this.batch.log.child({
        eventId: this.eventId,
        eventType: this.eventType,
        sequenceNumber: this.sequenceNumber,
        ...(this.subSequenceNumber !== undefined ? { subSequenceNumber: this.subSequenceNumber } : {}),
      });
    }
    return this.childLog;
  }
}
