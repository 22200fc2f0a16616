/** The producer's internal units: user records (one per put) and the Kinesis records carrying them. */

/** Where a record was written. */
export interface PutResult {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Position inside a KPL aggregate (all its user records share `sequenceNumber`); absent when not aggregated. */
  readonly subSequenceNumber?: number;
  /** Sends it took (1 = first try). */
  readonly attempts: number;
}

/** One accepted `put`: its bytes, where it goes, and the promise to settle. */
export interface UserRecord {
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  /** `explicitHashKey` as a number, parsed (and range-checked) once at `putRecord`. */
  readonly hashKey: bigint | undefined;
  readonly data: Uint8Array;
  /** Data + UTF-8 partition key: what counts against the Kinesis limits and the buffer. */
  readonly bytes: number;
  /** The event (or raw record) given by the caller, handed back in a DeliveryError. */
  readonly source: unknown;
  /** Flush epoch the record was put in. */
  readonly epoch: number;
  enqueuedAt: number;
  resolve: (result: PutResult) => void;
  reject: (error: Error) => void;
}

/** One Kinesis record of a PutRecords request: a single user record or a KPL aggregate. */
export interface Entry {
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  readonly data: Uint8Array;
  readonly bytes: number;
  readonly users: readonly UserRecord[];
  readonly aggregated: boolean;
  /** Shard predicted from the shard map (aggregation only). */
  readonly shardId: string | undefined;
  /** Distinct partition keys (ordered mode only; empty otherwise). */
  readonly keys: readonly string[];
  attempts: number;
  /** Sends made only to isolate an entry that got a whole request rejected (not counted against retry.maxAttempts). */
  splitSends: number;
  firstSentAt: number;
  notBefore: number;
  /** Settled (written or rejected). */
  done: boolean;
  /** Waiting for its backoff to pass. */
  retrying: boolean;
}

const EMPTY_KEYS: readonly string[] = [];

export function singleEntry(record: UserRecord, shardId: string | undefined, ordered: boolean): Entry {
  return {
    partitionKey: record.partitionKey,
    explicitHashKey: record.explicitHashKey,
    data: record.data,
    bytes: record.bytes,
    users: [record],
    aggregated: false,
    shardId,
    keys: ordered ? [record.partitionKey] : EMPTY_KEYS,
    attempts: 0,
    splitSends: 0,
    firstSentAt: 0,
    notBefore: 0,
    done: false,
    retrying: false,
  };
}

/** An aggregate routes like its first user record: all of them map to the same shard. */
export function aggregateEntry(
  records: readonly UserRecord[],
  data: Uint8Array,
  keyBytes: number,
  shardId: string | undefined,
  ordered: boolean,
): Entry {
  const first = records[0]!;
  return {
    partitionKey: first.partitionKey,
    explicitHashKey: first.explicitHashKey,
    data,
    bytes: data.length + keyBytes,
    users: records,
    aggregated: true,
    shardId,
    keys: ordered ? [...new Set(records.map((r) => r.partitionKey))] : EMPTY_KEYS,
    attempts: 0,
    splitSends: 0,
    firstSentAt: 0,
    notBefore: 0,
    done: false,
    retrying: false,
  };
}
