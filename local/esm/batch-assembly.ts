/**
 * Batch assembly (pure). Page "Using AWS Lambda with Amazon Kinesis": "Before invoking the function,
 * Lambda continues to read records from the event source until it has gathered a full batch, the
 * batching window expires, or the batch reaches the payload limit of 6 MB."
 */
import type { StreamRecord } from './stream-record';

/** Lambda quota "Invocation payload (request and response)": 6 MB for synchronous invocation. */
export const MAX_INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Bytes of `{"Records":[` + `]}` around the records. */
export const EVENT_ENVELOPE_BYTES = '{"Records":[]}'.length;

export interface BufferedRecord {
  readonly record: StreamRecord;
  /** When the mapping buffered it (ms); the batching window counts from the oldest buffered record. */
  readonly bufferedAt: number;
}

export interface AssemblyLimits {
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  /** Extra bytes the event carries besides Records (tumbling-window fields and state). */
  extraEventBytes?: number;
  payloadLimitBytes?: number;
}

export interface AssembledBatch {
  /** Records taken from the head of the buffer, in order. */
  records: StreamRecord[];
  /** Why the batch may be invoked now; `undefined` when it must keep gathering. */
  trigger: 'full' | 'payload-limit' | 'window-expired' | 'no-window' | 'boundary' | 'flush' | undefined;
  /** When gathering, the time (ms) the batching window expires. */
  readyAt: number | undefined;
}

/**
 * Take the longest head of `buffer` that fits batch size and payload cap, stopping where `sameGroup`
 * says the next record belongs elsewhere (another tumbling window). `flush` forces invocation
 * (shard ended, or the window's group is closed).
 */
export function assembleBatch(
  buffer: readonly BufferedRecord[],
  now: number,
  limits: AssemblyLimits,
  options: { flush?: boolean; sameGroup?: (a: StreamRecord, b: StreamRecord) => boolean } = {},
): AssembledBatch {
  const cap = (limits.payloadLimitBytes ?? MAX_INVOCATION_PAYLOAD_BYTES) - (limits.extraEventBytes ?? 0);
  const records: StreamRecord[] = [];
  let bytes = EVENT_ENVELOPE_BYTES;
  let trigger: AssembledBatch['trigger'];
  for (const { record } of buffer) {
    if (records.length === limits.batchSize) {
      trigger = 'full';
      break;
    }
    const first = records[0];
    if (first !== undefined && options.sameGroup !== undefined && !options.sameGroup(first, record)) {
      trigger = 'boundary';
      break;
    }
    const added = record.size + (records.length > 0 ? 1 : 0);
    if (records.length > 0 && bytes + added > cap) {
      trigger = 'payload-limit';
      break;
    }
    records.push(record);
    bytes += added;
  }
  if (records.length === 0) return { records, trigger: undefined, readyAt: undefined };
  if (trigger === undefined && records.length === limits.batchSize) trigger = 'full';
  if (trigger !== undefined) return { records, trigger, readyAt: undefined };
  if (options.flush) return { records, trigger: 'flush', readyAt: undefined };
  const windowMs = limits.maximumBatchingWindowInSeconds * 1000;
  if (windowMs === 0) return { records, trigger: 'no-window', readyAt: undefined };
  const readyAt = (buffer[0]?.bufferedAt ?? now) + windowMs;
  if (now >= readyAt) return { records, trigger: 'window-expired', readyAt: undefined };
  return { records: [], trigger: undefined, readyAt };
}
