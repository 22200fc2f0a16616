/**
 * Kinesis limits enforced before sending (Kinesis API reference, PutRecords / PutRecordsRequestEntry):
 * up to 500 records and 5 MiB per PutRecords request including partition keys; each record
 * (data + partition key) up to 1 MiB by default (a stream's MaxRecordSizeInKiB can raise it to
 * 10 MiB: "Handle large records"); partition key 1..256 Unicode characters.
 */
import { RecordLimitError } from './errors';

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

export function checkPartitionKey(key: string): void {
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
