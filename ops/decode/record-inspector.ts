/**
 * Decodes and validates Kinesis records exactly as a consumer does: the consumer runtime's own
 * RecordDecoder (base64 -> KPL deaggregation -> UTF-8 -> safe JSON -> envelope + contract from the
 * schema registry -> hops loop guard), so `tail` and a quarantine redrive never disagree with the
 * consumers about what is valid. Built once; inspects any number of records.
 */
import type { _Record } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import { RecordDecoder } from '../../consumers/runtime/decode';
import type { AnyEvent } from '../../consumers/runtime/types';
import { DEFAULT_MAX_JSON_DEPTH } from '../../consumers/runtime/safe-json';
import { toStreamRecord } from '../../local/esm/stream-record';
import { DEFAULT_MAX_HOPS, registry } from '../../schemas/index';
import { createLogger, type Logger } from '../../telemetry/logger';

export interface InspectedEvent {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Index inside a KPL aggregate; undefined for a plain record. */
  readonly subSequenceNumber: number | undefined;
  /** The user record's partition key (inside an aggregate: its own key). */
  readonly partitionKey: string;
  readonly arrivalTime: Date;
  readonly valid: boolean;
  readonly id?: string | undefined;
  readonly type?: string | undefined;
  readonly version?: number | undefined;
  /** The validated event (valid records only), exactly as the consumer's handler receives it. */
  readonly event?: AnyEvent | undefined;
  /** Why it is invalid (the consumer's permanent-failure kind and message). */
  readonly failureKind?: string | undefined;
  readonly reason?: string | undefined;
}

export interface RecordInspectorOptions {
  readonly maxHops?: number;
  readonly maxJsonDepth?: number;
}

export class RecordInspector {
  private readonly decoder: RecordDecoder;
  private readonly log: Logger;

  constructor(options: RecordInspectorOptions = {}) {
    this.decoder = new RecordDecoder({
      registry,
      maxHops: options.maxHops ?? DEFAULT_MAX_HOPS,
      maxJsonDepth: options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH,
    });
    this.log = createLogger({ name: 'ops', level: 'silent' });
  }

  /** Every user event of SDK records read from one shard. */
  inspectRecords(records: readonly _Record[], shardId: string, streamArn: string): InspectedEvent[] {
    const context = { shardId, invokeIdentityArn: '', awsRegion: '', eventSourceARN: streamArn };
    return this.inspectEventRecords(records.map((record) => toStreamRecord(record, context).event as KinesisStreamRecord), shardId);
  }

  /** Every user event of records in Lambda's event shape. */
  inspectEventRecords(records: readonly KinesisStreamRecord[], shardId: string): InspectedEvent[] {
    const { items } = this.decoder.decode(records, shardId, this.log);
    return items.map((item) => {
      // decode() splits records (and aggregates) into items; load() validates one, as the runtime does just before running it.
      const valid = item.permanent === undefined && this.decoder.load(item);
      const base = {
        shardId: item.shardId,
        sequenceNumber: item.sequenceNumber,
        subSequenceNumber: item.subSequenceNumber,
        partitionKey: item.partitionKey,
        arrivalTime: new Date(item.arrivalTimeMs),
      };
      if (valid) return { ...base, valid: true, id: item.eventId, type: item.eventType, version: item.eventVersion, event: item.event };
      const raw = envelopeFields(item.rawValue);
      return { ...base, valid: false, ...raw, failureKind: item.permanent?.kind, reason: item.permanent?.message ?? 'invalid' };
    });
  }
}

/** Whatever envelope fields of an invalid event can still be read (for display and search). */
function envelopeFields(value: unknown): { id?: string; type?: string; version?: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const v = value as Record<string, unknown>;
  return {
    ...(typeof v['id'] === 'string' ? { id: v['id'] } : {}),
    ...(typeof v['type'] === 'string' ? { type: v['type'] } : {}),
    ...(typeof v['version'] === 'number' ? { version: v['version'] } : {}),
  };
}
