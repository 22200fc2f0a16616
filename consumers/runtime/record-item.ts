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
}

export interface PermanentFailure {
  readonly kind: PermanentFailureKind;
  readonly message: string;
  readonly issues?: readonly ValidationIssue[];
}

export class RecordItem implements RecordMeta {
  status: ItemStatus = ItemStatus.Pending;
  /** The validated event while the record runs (released when it is done, so a batch does not pin every event). */
  event: AnyEvent | undefined = undefined;
  eventId: string | undefined = undefined;
  eventType: string | undefined = undefined;
  eventVersion: number | undefined = undefined;
  permanent: PermanentFailure | undefined = undefined;
  transient: TransientFailureKind | undefined = undefined;
  transientError: unknown = undefined;
  /** The parsed JSON of a record that failed validation (to report its id/type/version). */
  rawValue: unknown = undefined;
  /** Next item of the same partition key waiting behind this one (async scheduling only). */
  next: RecordItem | undefined = undefined;
  private childLog: Logger | undefined = undefined;

  constructor(
    /** The Kinesis record as Lambda delivered it. */
    readonly source: KinesisStreamRecord,
    /** Position of the Kinesis record in the batch (batch order = sequence order within a shard). */
    readonly recordIndex: number,
    readonly sequenceNumber: string,
    readonly subSequenceNumber: number | undefined,
    readonly partitionKey: string,
    readonly explicitHashKey: string | undefined,
    readonly shardId: string,
    readonly streamArn: string,
    readonly approximateArrivalTimestamp: number,
    /** User record bytes of an aggregate; undefined for plain records (data is in `source`). */
    readonly userData: Uint8Array | undefined,
    private readonly parentLog: Logger,
  ) {}

  get arrivalTimeMs(): number {
    return Math.round(this.approximateArrivalTimestamp * 1000);
  }

  get log(): Logger {
    if (this.childLog === undefined) {
      this.childLog = this.parentLog.child({
        eventId: this.eventId,
        eventType: this.eventType,
        sequenceNumber: this.sequenceNumber,
        ...(this.subSequenceNumber !== undefined ? { subSequenceNumber: this.subSequenceNumber } : {}),
      });
    }
    return this.childLog;
  }

  /** True once the item needs nothing more in this invocation. */
  get settled(): boolean {
    return this.status === ItemStatus.Done || this.status === ItemStatus.Duplicate || this.status === ItemStatus.Quarantined;
  }
}
