/**
 * consumers/runtime/quarantine.ts, rule 4: the quarantine record of a permanently failed item carries
 * exactly the fields that are known (optional fields are absent, never present as `undefined`, so the
 * JSON body and the ops CLI see the same shape), the envelope fields readable from a raw value are
 * bounded (id/type at most 100 characters), and flushQuarantine settles exactly the written items as
 * Quarantined and the unwritten ones as Retry ('quarantine-failed').
 */
import { describe, expect, it } from 'vitest';
import { buildQuarantineRecord, flushQuarantine, type QuarantineSink } from '../../consumers/runtime/quarantine';
import { ItemStatus, RecordItem, type BatchInfo, type PermanentFailure } from '../../consumers/runtime/record-item';
import type { QuarantineRecord } from '../../consumers/runtime/types';
import { createLogger } from '../../telemetry/logger';
import { LogCapture, SHARD_ID, STREAM_ARN, b64, kinesisRecord, seq } from './helpers';

const batch: BatchInfo = { shardId: SHARD_ID, log: createLogger({ name: 'quarantine-test', destination: new LogCapture() }) };
const NOW = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
const DATA = b64('not json'); // 8 bytes

/** A plain (non-aggregated) item at index `i` that failed permanently with `failure`. */
function plainItem(i: number, failure: PermanentFailure, rawValue?: unknown): RecordItem {
  const item = new RecordItem(kinesisRecord(i, DATA, `pk-${i}`), seq(i), `pk-${i}`, batch, undefined);
  item.permanent = failure;
  item.rawValue = rawValue;
  item.status = ItemStatus.ToQuarantine;
  return item;
}

/** A user record of a KPL aggregate (sub-sequence 2), with or without an explicit hash key. */
function aggregatedItem(explicitHashKey: string | undefined): RecordItem {
  const item = new RecordItem(kinesisRecord(5, DATA, 'kinesis-pk'), seq(5), 'user-pk', batch, {
    subSequenceNumber: 2,
    explicitHashKey,
    data: new Uint8Array([0x7b, 0x7d, 0x21]),
  });
  item.permanent = { kind: 'invalid-json', message: 'bad' };
  item.status = ItemStatus.ToQuarantine;
  return item;
}

/** The record part every plain item at index `i` gets (no aggregate fields, no explicit hash key). */
function plainSource(i: number): QuarantineRecord['record'] {
  return {
    streamArn: STREAM_ARN,
    shardId: SHARD_ID,
    sequenceNumber: seq(i),
    eventId: `${SHARD_ID}:${seq(i)}`,
    partitionKey: `pk-${i}`,
    approximateArrivalTimestamp: 1_767_225_600 + i / 1000,
    arrivalTime: new Date(Math.round((1_767_225_600 + i / 1000) * 1000)).toISOString(),
    aggregated: false,
    data: DATA,
    dataBytes: 8,
  };
}

const schemaError: PermanentFailure = { kind: 'schema', message: 'invalid order.placed v1' };

describe('buildQuarantineRecord: envelope fields read from the raw value (validation failed)', () => {
  it('keeps an id and a type of exactly 100 characters', () => {
    const id = 'i'.repeat(100);
    const type = 't'.repeat(100);
    const record = buildQuarantineRecord(plainItem(0, schemaError, { id, type, version: 3 }), 'c', NOW);
    expect(record.event).toStrictEqual({ id, type, version: 3 });
  });

  it('drops an id or a type of 101 characters (unbounded strings stay out of the searchable fields)', () => {
    const long = 'x'.repeat(101);
    expect(buildQuarantineRecord(plainItem(0, schemaError, { id: long, type: 'order.placed', version: 1 }), 'c', NOW).event).toStrictEqual({
      type: 'order.placed',
      version: 1,
    });
    expect(buildQuarantineRecord(plainItem(0, schemaError, { id: 'e-1', type: long }), 'c', NOW).event).toStrictEqual({ id: 'e-1' });
  });

  it('no usable field (too long, wrong types) or no object: the record has no `event` key at all', () => {
    const raws: unknown[] = [{ id: 'x'.repeat(101), type: 7, version: '1' }, {}, 'a string', [{ id: 'e' }], null, undefined];
    for (const raw of raws) {
      const record = buildQuarantineRecord(plainItem(0, schemaError, raw), 'c', NOW);
      expect(Object.keys(record)).toEqual(['format', 'consumer', 'quarantinedAt', 'error', 'record']);
    }
  });

  it('a validated envelope (eventId set) wins over the raw value', () => {
    const item = plainItem(0, { kind: 'handler-permanent', message: 'refused' }, { id: 'raw' });
    item.eventId = 'e-42';
    item.eventType = 'order.paid';
    item.eventVersion = 2;
    expect(buildQuarantineRecord(item, 'c', NOW).event).toStrictEqual({ id: 'e-42', type: 'order.paid', version: 2 });
  });
});

describe('buildQuarantineRecord: optional fields are absent unless set', () => {
  it('a plain record without issues, attempts or envelope: exactly the mandatory fields', () => {
    expect(buildQuarantineRecord(plainItem(3, { kind: 'invalid-json', message: 'data is not valid JSON' }), 'orders', NOW)).toStrictEqual({
      format: 'kinesis-pipeline.quarantine.v1',
      consumer: 'orders',
      quarantinedAt: '2026-01-02T03:04:05.678Z',
      error: { kind: 'invalid-json', message: 'data is not valid JSON' },
      record: plainSource(3),
    });
  });

  it('issues and attempts are copied when set', () => {
    const issues = [{ path: 'data.totalMinor', message: 'must be an integer' }];
    const withIssues = buildQuarantineRecord(plainItem(1, { kind: 'schema', message: 'm', issues }), 'c', NOW);
    expect(withIssues.error).toStrictEqual({ kind: 'schema', message: 'm', issues });
    const poison = buildQuarantineRecord(plainItem(1, { kind: 'poison-record', message: 'm', attempts: 4 }), 'c', NOW);
    expect(poison.error).toStrictEqual({ kind: 'poison-record', message: 'm', attempts: 4 });
  });

  it('a user record of an aggregate: explicitHashKey present when the aggregate had one, the key absent otherwise', () => {
    const common = {
      streamArn: STREAM_ARN,
      shardId: SHARD_ID,
      sequenceNumber: seq(5),
      subSequenceNumber: 2,
      eventId: `${SHARD_ID}:${seq(5)}`,
      partitionKey: 'kinesis-pk',
      userPartitionKey: 'user-pk',
      approximateArrivalTimestamp: 1_767_225_600.005,
      arrivalTime: '2026-01-01T00:00:00.005Z',
      aggregated: true,
      data: 'e30h', // base64 of the user record bytes "{}!"
      dataBytes: 3,
    };
    const withKey = buildQuarantineRecord(aggregatedItem('340282366920938463463374607431768211455'), 'c', NOW);
    expect(withKey.record).toStrictEqual({ ...common, explicitHashKey: '340282366920938463463374607431768211455' });
    const withoutKey = buildQuarantineRecord(aggregatedItem(undefined), 'c', NOW);
    expect(withoutKey.record).toStrictEqual(common);
    expect(Object.keys(withoutKey.record)).not.toContain('explicitHashKey');
  });
});

describe('flushQuarantine', () => {
  it('marks exactly the indexes the sink could not write Retry (quarantine-failed), the others Quarantined', async () => {
    const items = [0, 1, 2, 3].map((i) => plainItem(i, { kind: 'invalid-json', message: `bad ${i}` }));
    const written: QuarantineRecord[][] = [];
    const sink: QuarantineSink = {
      async write(records) {
        written.push([...records]);
        return [1, 3];
      },
    };
    expect(await flushQuarantine(items, sink, 'orders', NOW)).toBeUndefined();
    expect(written).toStrictEqual([items.map((item) => buildQuarantineRecord(item, 'orders', NOW))]);
    expect(items.map((item) => [item.status, item.transient])).toStrictEqual([
      [ItemStatus.Quarantined, undefined],
      [ItemStatus.Retry, 'quarantine-failed'],
      [ItemStatus.Quarantined, undefined],
      [ItemStatus.Retry, 'quarantine-failed'],
    ]);
  });

  it('a sink failing as a whole: every item Retry (quarantine-failed) and the error returned', async () => {
    const items = [0, 1].map((i) => plainItem(i, { kind: 'invalid-json', message: 'bad' }));
    const failure = new Error('disk full');
    const sink: QuarantineSink = {
      write: () => Promise.reject(failure),
    };
    expect(await flushQuarantine(items, sink, 'orders', NOW)).toBe(failure);
    expect(items.map((item) => [item.status, item.transient])).toStrictEqual([
      [ItemStatus.Retry, 'quarantine-failed'],
      [ItemStatus.Retry, 'quarantine-failed'],
    ]);
  });
});
