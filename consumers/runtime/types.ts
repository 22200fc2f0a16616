/** Public types of the consumer runtime: what handlers receive and what the quarantine holds. */
import type { EventOf, ValidationIssue } from '../../schemas/index';
import type { Logger } from '../../telemetry/logger';

/** Any validated event of a registry. */
export type AnyEvent = EventOf<string, number, unknown>;

/** Where a record came from; passed to every handler next to the validated event. */
export interface RecordMeta {
  /** Kinesis sequence number of the (possibly aggregated) Kinesis record. */
  readonly sequenceNumber: string;
  /** Index of the user record inside a KPL aggregate; undefined for a plain record. */
  readonly subSequenceNumber: number | undefined;
  /** Partition key of the user record (for an aggregate: the user record's own key). */
  readonly partitionKey: string;
  /** Explicit hash key of an aggregated user record, when it has one. */
  readonly explicitHashKey: string | undefined;
  readonly shardId: string;
  readonly streamArn: string;
  /** `approximateArrivalTimestamp` as Lambda sends it (Unix seconds, fractional). */
  readonly approximateArrivalTimestamp: number;
  /** Arrival time in Unix milliseconds. */
  readonly arrivalTimeMs: number;
  /** Child logger bound to this record's event id, type and sequence number (created on first use). */
  readonly log: Logger;
}

/** A per-event handler: sync or async. Throw `PermanentError` to quarantine, anything else to retry. */
export type EventHandler<E> = (event: E, meta: RecordMeta) => void | Promise<void>;

/** Handlers by event type; the event argument is narrowed to that type. Types without a handler are acknowledged. */
export type EventHandlers<E extends AnyEvent> = { readonly [T in E['type']]?: EventHandler<Extract<E, { type: T }>> };

/** Why a record was quarantined (rule 3: permanent failures). */
export type PermanentFailureKind =
  | 'invalid-base64'
  | 'corrupt-aggregate'
  | 'invalid-utf8'
  | 'invalid-json'
  | 'forbidden-key'
  | 'too-deep'
  | 'envelope'
  | 'unknown-type'
  | 'unknown-version'
  | 'schema'
  | 'hops-exceeded'
  | 'handler-permanent'
  /** Rule 13: failed the same way on K consecutive deliveries while other records succeeded. */
  | 'poison-record';

/** Why a record is reported for redelivery (everything that is not permanent). */
export type TransientFailureKind =
  | 'handler-error'
  | 'idempotency-error'
  /** Rule 8: another invocation holds the event's claim (its lease is valid): never run twice at once. */
  | 'in-progress-elsewhere'
  | 'quarantine-failed'
  | 'blocked-by-earlier-failure'
  | 'not-started'
  | 'unfinished';

/** The error part of a quarantine record. */
export interface QuarantineError {
  readonly kind: PermanentFailureKind;
  /** Readable reason, e.g. `invalid order.placed v1: data.totalMinor: must equal ...`. */
  readonly message: string;
  /** Validation issues by field path (contract violations only). */
  readonly issues?: readonly ValidationIssue[];
  /** Poison records: how many consecutive deliveries failed with this error. */
  readonly attempts?: number;
}

/** The Kinesis record a quarantined event came from: enough to find it again and replay it. */
export interface QuarantinedRecordSource {
  readonly streamArn: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Set for a user record of a KPL aggregate. */
  readonly subSequenceNumber?: number;
  /** Lambda's `eventID` (`shardId:sequenceNumber`). */
  readonly eventId: string;
  /** Partition key of the Kinesis record. */
  readonly partitionKey: string;
  /** Partition key of the user record inside an aggregate. */
  readonly userPartitionKey?: string;
  readonly explicitHashKey?: string;
  readonly approximateArrivalTimestamp: number;
  /** ISO-8601 arrival time. */
  readonly arrivalTime: string;
  readonly aggregated: boolean;
  /**
   * The payload as received: Lambda's base64 `data` for a plain record (verbatim, even when it is not
   * valid base64), base64 of the user record bytes for an aggregated one. Absent only when the record
   * was quarantined by reference (`dataOmitted`).
   */
  readonly data?: string;
  /** Size of the payload in bytes (decoded; characters of `data` when it is not valid base64). */
  readonly dataBytes: number;
  /** Set when the payload did not fit the sink's message limit: re-read it from the stream by sequence number. */
  readonly dataOmitted?: 'too-large';
}

/** One quarantined record: what failed, why, where it came from, and its payload. */
export interface QuarantineRecord {
  readonly format: 'kinesis-pipeline.quarantine.v1';
  readonly consumer: string;
  /** ISO-8601 time of quarantine. */
  readonly quarantinedAt: string;
  readonly error: QuarantineError;
  /** Envelope fields that could be read, if any (useful for search even when validation failed). */
  readonly event?: { readonly id?: string; readonly type?: string; readonly version?: number };
  readonly record: QuarantinedRecordSource;
}
