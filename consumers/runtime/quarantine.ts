/**
 * Rule 4: permanent failures are quarantined with everything needed to understand and replay them,
 * then count as handled so the shard moves on. If the write fails, the record is retried instead.
 */
import { ItemStatus, type RecordItem } from './record-item';
import type { QuarantineRecord, QuarantinedRecordSource } from './types';

/** Where quarantined records go. Implementations: SqsQuarantineSink, FileQuarantineSink, InMemoryQuarantineSink. */
export interface QuarantineSink {
  /**
   * Durably write `records`. Resolves with the indexes (into `records`) that could NOT be written,
   * an empty array when all were; rejects when nothing could be written. Unwritten records are
   * reported for redelivery, never dropped.
   */
  write(records: readonly QuarantineRecord[]): Promise<readonly number[]>;
}

/** Keeps quarantined records in memory: for tests and local experiments. */
export class InMemoryQuarantineSink implements QuarantineSink {
  readonly records: QuarantineRecord[] = [];

  async write(records: readonly QuarantineRecord[]): Promise<readonly number[]> {
    this.records.push(...records);
    return [];
  }
}

/** The same record quarantined by reference: payload dropped, location kept (re-read it by sequence number). */
export function withoutPayload(record: QuarantineRecord): QuarantineRecord {
  const { data: _data, ...source } = record.record;
  return { ...record, record: { ...source, dataOmitted: 'too-large' } };
}

/** Serialise a quarantine record as one JSON line-safe string. */
export function serializeQuarantineRecord(record: QuarantineRecord): string {
  // JSON.stringify escapes control characters and lone surrogates; U+FFFE/U+FFFF are valid JSON but
  // not allowed in SQS message bodies (SQS SendMessage: allowed Unicode characters), so escape them too.
  return JSON.stringify(record).replace(/[\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function readEnvelopeFields(value: unknown): QuarantineRecord['event'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const out: { id?: string; type?: string; version?: number } = {};
  if (typeof v['id'] === 'string' && v['id'].length <= 100) out.id = v['id'];
  if (typeof v['type'] === 'string' && v['type'].length <= 100) out.type = v['type'];
  if (typeof v['version'] === 'number') out.version = v['version'];
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Build the quarantine record of a permanently failed item. */
export function buildQuarantineRecord(item: RecordItem, consumer: string, now: Date): QuarantineRecord {
  const failure = item.permanent!;
  const k = item.source.kinesis;
  const aggregated = item.subSequenceNumber !== undefined;
  let data: string;
  let dataBytes: number;
  if (aggregated) {
    const bytes = item.userData!;
    data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    dataBytes = bytes.byteLength;
  } else {
    data = k.data;
    dataBytes = failure.kind === 'invalid-base64' ? data.length : Buffer.byteLength(data, 'base64');
  }
  const source: QuarantinedRecordSource = {
    streamArn: item.streamArn,
    shardId: item.shardId,
    sequenceNumber: item.sequenceNumber,
    ...(aggregated ? { subSequenceNumber: item.subSequenceNumber } : {}),
    eventId: item.source.eventID,
    partitionKey: k.partitionKey,
    ...(aggregated ? { userPartitionKey: item.partitionKey } : {}),
    ...(item.explicitHashKey !== undefined ? { explicitHashKey: item.explicitHashKey } : {}),
    approximateArrivalTimestamp: item.approximateArrivalTimestamp,
    arrivalTime: new Date(item.arrivalTimeMs).toISOString(),
    aggregated,
    data,
    dataBytes,
  };
  const event =
    item.eventId !== undefined ? { id: item.eventId, type: item.eventType!, version: item.eventVersion! } : readEnvelopeFields(item.rawValue);
  return {
    format: 'kinesis-pipeline.quarantine.v1',
    consumer,
    quarantinedAt: now.toISOString(),
    error: {
      kind: failure.kind,
      message: failure.message,
      ...(failure.issues !== undefined ? { issues: failure.issues } : {}),
      ...(failure.attempts !== undefined ? { attempts: failure.attempts } : {}),
    },
    ...(event !== undefined ? { event } : {}),
    record: source,
  };
}

/**
 * Write every item waiting for quarantine; written ones become Quarantined, the rest Retry
 * ('quarantine-failed'). Returns the error when the sink failed as a whole.
 */
export async function flushQuarantine(
  items: readonly RecordItem[],
  sink: QuarantineSink,
  consumer: string,
  now: Date,
): Promise<unknown> {
  const records = items.map((item) => buildQuarantineRecord(item, consumer, now));
  let failed: readonly number[];
  try {
    failed = await sink.write(records);
  } catch (error) {
    for (const item of items) {
      item.status = ItemStatus.Retry;
      item.transient = 'quarantine-failed';
    }
    return error;
  }
  const failedSet = new Set(failed);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (failedSet.has(i)) {
      item.status = ItemStatus.Retry;
      item.transient = 'quarantine-failed';
    } else {
      item.status = ItemStatus.Quarantined;
    }
  }
  return undefined;
}
