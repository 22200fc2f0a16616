/**
 * Everything Kinesis validates in a PutRecords request, checked before a record is admitted, so that
 * nothing invalid ever reaches a request (Kinesis API reference, PutRecords and PutRecordsRequestEntry;
 * the same constraints are in the service model, aws-sdk-js-v3 codegen/sdk-codegen/aws-models/kinesis.json):
 * - up to 500 records and 5 MiB per PutRecords request including partition keys;
 * - each record (data + partition key) up to 1 MiB by default (a stream's MaxRecordSizeInKiB can
 *   raise it to 10 MiB: "Handle large records"); Data is a blob of 0..that many bytes;
 * - PartitionKey: "Unicode strings with a maximum length limit of 256 characters", length 1..256;
 * - ExplicitHashKey: pattern `0|([1-9]\d{0,38})`, a 128-bit hash value (0..2^128-1);
 * - StreamName: length 1..128, pattern `[a-zA-Z0-9_.-]+`; StreamARN: length 1..2048, pattern
 *   `arn:aws.*:kinesis:.*:\d{12}:stream/\S+`.
 */
import { MAX_HASH_KEY } from '../kinesis/hash-key';
import { ExplicitHashKeyError, PartitionKeyError, RecordDataError, RecordLimitError } from './errors';

export const MIB = 1024 * 1024;
export const MAX_RECORDS_PER_REQUEST = 500;
export const MAX_REQUEST_BYTES = 5 * MIB;
export const DEFAULT_MAX_RECORD_BYTES = MIB;
/** Largest record any stream accepts (MaxRecordSizeInKiB 10240). */
export const MAX_LARGE_RECORD_BYTES = 10 * MIB;
export const MAX_PARTITION_KEY_CHARS = 256;

/** Unicode code points of `key` (the unit of the 256-character rule), counted only when it matters. */
function codePoints(key: string): number {
  if (key.length <= MAX_PARTITION_KEY_CHARS) return key.length; // UTF-16 units >= code points
  let n = 0;
  for (const _ of key) n++;
  return n;
}

/**
 * PartitionKey: a string of 1..256 Unicode characters. A string with a lone UTF-16 surrogate is not
 * Unicode text (it has no UTF-8 form: the key Kinesis hashes and a KPL aggregate carries would differ
 * from the one given), so it is refused too.
 */
export function checkPartitionKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new PartitionKeyError(`partition key must be a string, got ${describe(key)}`);
  if (key.length === 0) {
    throw new RecordLimitError('PartitionKeyLength', 0, MAX_PARTITION_KEY_CHARS, 'partition key is empty: it must be 1-256 characters (Kinesis PartitionKey limit)');
  }
  const chars = codePoints(key);
  if (chars > MAX_PARTITION_KEY_CHARS) {
    throw new RecordLimitError(
      'PartitionKeyLength',
      chars,
      MAX_PARTITION_KEY_CHARS,
      `partition key is ${chars} characters: the Kinesis PartitionKey limit is ${MAX_PARTITION_KEY_CHARS} characters`,
    );
  }
  if (!(key as string & WellFormedCheck).isWellFormed()) {
    throw new PartitionKeyError('partition key is not valid Unicode (it contains a lone UTF-16 surrogate): Kinesis partition keys are Unicode strings');
  }
}

/** String.prototype.isWellFormed (ES2024, Node >= 20); the project's lib is ES2023. */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/** ExplicitHashKey as Kinesis accepts it (PutRecordsRequestEntry: pattern `0|([1-9]\d{0,38})`, anchored). */
const EXPLICIT_HASH_KEY_PATTERN = /^(?:0|[1-9]\d{0,38})$/;

/**
 * The explicit hash key as a number: a decimal string matching the documented pattern and within the
 * 128-bit hash key space (0..2^128-1; 39 digits can exceed it). Throws ExplicitHashKeyError otherwise.
 */
export function parseExplicitHashKey(value: unknown): bigint {
  if (typeof value !== 'string') {
    throw new ExplicitHashKeyError(`explicit hash key must be a decimal string, got ${describe(value)}`);
  }
  if (!EXPLICIT_HASH_KEY_PATTERN.test(value)) {
    throw new ExplicitHashKeyError(
      `explicit hash key ${JSON.stringify(value.length > 50 ? `${value.slice(0, 50)}...` : value)} is not a decimal integer without sign or ` +
        'leading zeros (Kinesis ExplicitHashKey pattern 0|([1-9]\\d{0,38}))',
    );
  }
  const hashKey = BigInt(value);
  if (hashKey > MAX_HASH_KEY) {
    throw new ExplicitHashKeyError(`explicit hash key ${value} is above 2^128-1, the largest Kinesis hash key`);
  }
  return hashKey;
}

const textEncoder = new TextEncoder();

/** Data as bytes: a Uint8Array as is, a string as UTF-8; anything else is not a Kinesis data blob. */
export function toDataBytes(data: unknown, what: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return textEncoder.encode(data);
  throw new RecordDataError(`${what} must be a Uint8Array or a string, got ${describe(data)}`);
}

const STREAM_NAME_PATTERN = /^[a-zA-Z0-9_.-]{1,128}$/;
const STREAM_ARN_PATTERN = /^arn:aws.*:kinesis:.*:\d{12}:stream\/\S+$/;
const MAX_STREAM_ARN_CHARS = 2048;

/** Where PutRecords and ListShards send: StreamARN for an ARN, StreamName otherwise. */
export type StreamTarget = { readonly StreamName: string } | { readonly StreamARN: string };

/** A stream name (1..128 of `[a-zA-Z0-9_.-]`) or a stream ARN; a RangeError says which rule fails. */
export function streamTarget(stream: unknown): StreamTarget {
  if (typeof stream !== 'string') throw new RangeError(`streamName must be a string, got ${describe(stream)}`);
  if (stream.startsWith('arn:')) {
    if (stream.length <= MAX_STREAM_ARN_CHARS && STREAM_ARN_PATTERN.test(stream)) return { StreamARN: stream };
    throw new RangeError(
      `streamName "${stream.slice(0, 200)}" is not a Kinesis stream ARN (arn:aws...:kinesis:<region>:<12-digit account>:stream/<name>, at most 2048 characters)`,
    );
  }
  if (STREAM_NAME_PATTERN.test(stream)) return { StreamName: stream };
  throw new RangeError(
    `streamName "${stream.slice(0, 200)}" is not a Kinesis stream name (1-128 characters of letters, digits, "_", "." and "-") or a stream ARN`,
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof ArrayBuffer) return 'an ArrayBuffer';
  return typeof value;
}

/** Size a record counts against the limits: data plus the UTF-8 partition key. */
export function recordBytes(dataBytes: number, partitionKey: string): number {
  return dataBytes + Buffer.byteLength(partitionKey, 'utf8');
}

export function checkRecordSize(bytes: number, maxRecordBytes: number): void {
  if (bytes > maxRecordBytes) {
    throw new RecordLimitError(
      'RecordSize',
      bytes,
      maxRecordBytes,
      `record is ${bytes} bytes (data + partition key): the Kinesis record size limit is ${maxRecordBytes} bytes` +
        (maxRecordBytes === DEFAULT_MAX_RECORD_BYTES ? ' (1 MiB)' : ' (maxRecordBytes)'),
    );
  }
}
