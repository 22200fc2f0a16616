/**
 * Redrive of quarantined records after a fix (a schema change, a corrected producer): each quarantine
 * record carries its payload (consumers/runtime QuarantineRecord). It is validated again with the
 * consumer's own decoder and the current schema registry; a valid one is re-put to its stream (raw
 * bytes, original partition key, see ./reput.ts) and removed; a still-invalid one stays, with the reason.
 * A record quarantined by reference (payload too large for the queue) is read back from the stream.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import type { QuarantineRecord } from '../../consumers/runtime/types';
import { decodeAggregate, isAggregate } from '../../kinesis/kpl';
import type { ShardRangeReader } from '../aws/shard-range-reader';
import type { RecordInspector } from '../decode/record-inspector';
import { streamNameFromArn } from '../naming';
import { redriveEach, type MessageSource, type SourceItem } from './message-source';
import type { RecordPutter } from './reput';

export interface QuarantineRedriveOptions {
  readonly source: MessageSource;
  readonly inspector: RecordInspector;
  readonly putter?: RecordPutter;
  /** Reads payloads quarantined by reference. */
  readonly reader?: ShardRangeReader;
  readonly dryRun: boolean;
  readonly onItem?: (report: QuarantineItemReport) => void;
}

export type QuarantineItemStatus = 'reput' | 'still-invalid' | 'unreadable' | 'failed' | 'dry-run';

export interface QuarantineItemReport {
  readonly id: string;
  readonly status: QuarantineItemStatus;
  readonly consumer?: string;
  readonly eventId?: string;
  readonly type?: string;
  readonly partitionKey?: string;
  readonly sequenceNumber?: string;
  /** Why it was quarantined in the first place. */
  readonly originalReason?: string;
  readonly detail: string;
  readonly removed: boolean;
}

export interface QuarantineRedriveSummary {
  readonly items: readonly QuarantineItemReport[];
  readonly reput: number;
  readonly kept: number;
  readonly ok: boolean;
}

export async function redriveQuarantine(options: QuarantineRedriveOptions): Promise<QuarantineRedriveSummary> {
  const items = await redriveEach(
    options.source,
    (item) => redriveOne(item, options),
    (item, detail): QuarantineItemReport => ({ id: item.id, status: 'failed', detail, removed: false }),
    (report) => options.onItem?.(report),
  );
  const reput = items.filter((i) => i.removed).length;
  return { items, reput, kept: items.length - reput, ok: items.every((i) => i.removed || i.status === 'dry-run') };
}

function parseQuarantineRecord(body: string): QuarantineRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const v = value as Partial<QuarantineRecord> | null;
  if (typeof v !== 'object' || v === null || v.format !== 'kinesis-pipeline.quarantine.v1' || typeof v.record !== 'object' || v.record === null) {
    return 'not a quarantine record (format kinesis-pipeline.quarantine.v1)';
  }
  const r = v.record;
  if (typeof r.streamArn !== 'string' || typeof r.shardId !== 'string' || typeof r.sequenceNumber !== 'string' || typeof r.partitionKey !== 'string') {
    return 'quarantine record lacks record.streamArn/shardId/sequenceNumber/partitionKey';
  }
  return v as QuarantineRecord;
}

async function redriveOne(item: SourceItem, options: QuarantineRedriveOptions): Promise<QuarantineItemReport> {
  const parsed = parseQuarantineRecord(item.body);
  if (typeof parsed === 'string') return { id: item.id, status: 'unreadable', detail: `kept: ${parsed}`, removed: false };
  const q = parsed;
  const r = q.record;
  const partitionKey = r.userPartitionKey ?? r.partitionKey;
  const about = {
    id: item.id,
    consumer: q.consumer,
    eventId: q.event?.id,
    type: q.event?.type,
    partitionKey,
    sequenceNumber: r.subSequenceNumber !== undefined ? `${r.sequenceNumber}/${r.subSequenceNumber}` : r.sequenceNumber,
    originalReason: `${q.error?.kind}: ${q.error?.message}`,
  };

  const payload = r.data !== undefined ? r.data : await readByReference(q, options);
  if (payload === undefined) {
    return { ...about, status: 'unreadable', detail: 'kept: payload quarantined by reference and no longer in the stream (past retention)', removed: false };
  }

  // Validate as the consumer would: the payload as a one-record Kinesis event.
  const eventRecord = {
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey, sequenceNumber: r.sequenceNumber, data: payload, approximateArrivalTimestamp: r.approximateArrivalTimestamp },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${r.shardId}:${r.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: '',
    awsRegion: '',
    eventSourceARN: r.streamArn,
  } as KinesisStreamRecord;
  const inspected = options.inspector.inspectEventRecords([eventRecord], r.shardId);
  const invalid = inspected.find((e) => !e.valid);
  if (invalid !== undefined || inspected.length === 0) {
    return { ...about, status: 'still-invalid', detail: `kept: still invalid: ${invalid?.failureKind}: ${invalid?.reason ?? 'no event'}`, removed: false };
  }
  if (options.dryRun) return { ...about, status: 'dry-run', detail: `valid now: would re-put to ${streamNameFromArn(r.streamArn)}`, removed: false };
  if (!options.putter) throw new Error('quarantine redrive needs a producer');
  try {
    await options.putter.putRecord({
      partitionKey,
      data: Buffer.from(payload, 'base64'),
      ...(r.explicitHashKey !== undefined ? { explicitHashKey: r.explicitHashKey } : {}),
    });
  } catch (error) {
    return { ...about, status: 'failed', detail: `kept: re-put failed: ${(error as Error).message}`, removed: false };
  }
  await options.source.ack(item);
  return { ...about, status: 'reput', detail: `valid now: re-put to ${streamNameFromArn(r.streamArn)} and removed`, removed: true };
}

/** Base64 payload of a record quarantined by reference, read back from the stream; undefined if gone. */
async function readByReference(q: QuarantineRecord, options: QuarantineRedriveOptions): Promise<string | undefined> {
  if (!options.reader) return undefined;
  const r = q.record;
  const read = await options.reader.read({
    streamName: streamNameFromArn(r.streamArn),
    shardId: r.shardId,
    startSequenceNumber: r.sequenceNumber,
    endSequenceNumber: r.sequenceNumber,
    expectedCount: 1,
  });
  const record = read.records[0];
  if (record?.Data === undefined) return undefined;
  if (r.subSequenceNumber !== undefined && isAggregate(record.Data)) {
    const user = decodeAggregate(record.Data)[r.subSequenceNumber];
    return user === undefined ? undefined : Buffer.from(user.data).toString('base64');
  }
  return Buffer.from(record.Data).toString('base64');
}
