/**
 * consumers/runtime/record-item.ts: the per-record object that is also the `RecordMeta` handlers
 * receive. Pins what a handler reads from it for a plain record and for a user record of a KPL
 * aggregate (sub-sequence number, explicit hash key, bytes), the arrival time in milliseconds, and the
 * record's child logger (bound fields, created once on first use).
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { ItemStatus, RecordItem, type AggregatedPart, type BatchInfo } from '../../consumers/runtime/record-item';
import type { RecordMeta } from '../../consumers/runtime/types';
import { createLogger } from '../../telemetry/logger';
import { LogCapture, SHARD_ID, STREAM_ARN, kinesisRecord, seq } from './helpers';

function batchInfo(): { batch: BatchInfo; capture: LogCapture } {
  const capture = new LogCapture();
  return { batch: { shardId: SHARD_ID, log: createLogger({ name: 'record-item-test', level: 'info', destination: capture }) }, capture };
}

/** A Kinesis record arriving at `arrival` (Unix seconds, fractional as Lambda sends it). */
function source(arrival: number): KinesisStreamRecord {
  const record = kinesisRecord(7, 'e30=', 'kinesis-pk');
  return { ...record, kinesis: { ...record.kinesis, approximateArrivalTimestamp: arrival } };
}

const part = (subSequenceNumber: number, explicitHashKey: string | undefined): AggregatedPart => ({
  subSequenceNumber,
  explicitHashKey,
  data: new Uint8Array([0x7b, 0x7d]),
});

describe('RecordItem as RecordMeta', () => {
  it('a plain record: sequence number, key, shard and stream from the Kinesis record; no aggregate fields', () => {
    const { batch } = batchInfo();
    const item = new RecordItem(source(1_767_225_600.5), seq(7), 'kinesis-pk', batch, undefined);
    const meta: RecordMeta = item;
    expect({
      sequenceNumber: meta.sequenceNumber,
      subSequenceNumber: meta.subSequenceNumber,
      partitionKey: meta.partitionKey,
      explicitHashKey: meta.explicitHashKey,
      shardId: meta.shardId,
      streamArn: meta.streamArn,
      approximateArrivalTimestamp: meta.approximateArrivalTimestamp,
      arrivalTimeMs: meta.arrivalTimeMs,
    }).toStrictEqual({
      sequenceNumber: seq(7),
      subSequenceNumber: undefined,
      partitionKey: 'kinesis-pk',
      explicitHashKey: undefined,
      shardId: SHARD_ID,
      streamArn: STREAM_ARN,
      approximateArrivalTimestamp: 1_767_225_600.5,
      arrivalTimeMs: 1_767_225_600_500,
    });
    // The data of a plain record stays in `source` (base64); there is no user record view.
    expect(item.userData).toBeUndefined();
  });

  it('a user record of an aggregate: its sub-sequence number, explicit hash key, own key and bytes', () => {
    const { batch } = batchInfo();
    const userPart = part(3, '170141183460469231731687303715884105728');
    const item = new RecordItem(source(1_767_225_600), seq(7), 'user-pk', batch, userPart);
    expect(item.subSequenceNumber).toBe(3);
    expect(item.explicitHashKey).toBe('170141183460469231731687303715884105728');
    expect(item.partitionKey).toBe('user-pk');
    expect(item.userData).toBe(userPart.data);
    expect(item.sequenceNumber).toBe(seq(7));
  });

  it('the first user record of an aggregate has sub-sequence number 0, and may have no explicit hash key', () => {
    const { batch } = batchInfo();
    const item = new RecordItem(source(1_767_225_600), seq(7), 'user-pk', batch, part(0, undefined));
    expect(item.subSequenceNumber).toBe(0);
    expect(item.explicitHashKey).toBeUndefined();
  });

  it('shardId is the batch\'s (one BatchInfo per invocation, shared by its records)', () => {
    const { batch } = batchInfo();
    const item = new RecordItem(source(1), seq(1), 'pk', { ...batch, shardId: 'shardId-000000000042' }, undefined);
    expect(item.shardId).toBe('shardId-000000000042');
  });

  it.each([
    [1_767_225_600, 1_767_225_600_000],
    [1_767_225_600.123, 1_767_225_600_123],
    // Whole milliseconds: the fraction below one millisecond is rounded, not cut.
    [1_767_225_600.0006, 1_767_225_600_001],
    [1_767_225_600.0004, 1_767_225_600_000],
    [0, 0],
  ])('arrivalTimeMs of %d seconds is %d', (seconds, ms) => {
    const { batch } = batchInfo();
    expect(new RecordItem(source(seconds), seq(1), 'pk', batch, undefined).arrivalTimeMs).toBe(ms);
  });

  it('starts Pending with no event, failure or scheduling state', () => {
    const { batch } = batchInfo();
    const item = new RecordItem(source(1), seq(1), 'pk', batch, undefined);
    expect(item.status).toBe(ItemStatus.Pending);
    expect([item.event, item.eventId, item.eventType, item.eventVersion, item.traceId]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect([item.permanent, item.transient, item.transientError, item.rawValue, item.next, item.pending]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('RecordItem.log', () => {
  it('a plain record\'s logger binds the event id, type and sequence number, and no sub-sequence number', () => {
    const { batch, capture } = batchInfo();
    const child = vi.spyOn(batch.log, 'child');
    const item = new RecordItem(source(1), seq(7), 'pk', batch, undefined);
    item.eventId = 'evt-1';
    item.eventType = 'order.placed';
    item.log.info('handled');
    expect(child.mock.calls).toStrictEqual([[{ eventId: 'evt-1', eventType: 'order.placed', sequenceNumber: seq(7) }]]);
    expect(capture.lines).toHaveLength(1);
    expect(capture.lines[0]).toMatchObject({ msg: 'handled', eventId: 'evt-1', eventType: 'order.placed', sequenceNumber: seq(7) });
    expect(capture.lines[0]).not.toHaveProperty('subSequenceNumber');
  });

  it('a user record\'s logger also binds its sub-sequence number, 0 included', () => {
    for (const subSequenceNumber of [0, 5]) {
      const { batch, capture } = batchInfo();
      const child = vi.spyOn(batch.log, 'child');
      const item = new RecordItem(source(1), seq(7), 'pk', batch, part(subSequenceNumber, undefined));
      item.eventId = 'evt-2';
      item.eventType = 'order.paid';
      item.log.warn('retrying');
      expect(child.mock.calls).toStrictEqual([[{ eventId: 'evt-2', eventType: 'order.paid', sequenceNumber: seq(7), subSequenceNumber }]]);
      expect(capture.lines[0]).toMatchObject({ msg: 'retrying', eventId: 'evt-2', sequenceNumber: seq(7), subSequenceNumber });
    }
  });

  it('is created once, on first use: the same logger afterwards, bound to what was known then', () => {
    const { batch, capture } = batchInfo();
    const child = vi.spyOn(batch.log, 'child');
    const item = new RecordItem(source(1), seq(7), 'pk', batch, undefined);
    expect(child).not.toHaveBeenCalled();
    const first = item.log;
    item.eventId = 'evt-late';
    expect(item.log).toBe(first);
    expect(child).toHaveBeenCalledTimes(1);
    item.log.info('before decode');
    // The id was not known at first use (a record that failed to decode logs without one).
    expect(capture.lines[0]).toMatchObject({ msg: 'before decode', sequenceNumber: seq(7) });
    expect(capture.lines[0]).not.toHaveProperty('eventId');
  });

  it('each record has its own logger', () => {
    const { batch, capture } = batchInfo();
    const a = new RecordItem(source(1), seq(1), 'pk', batch, undefined);
    const b = new RecordItem(source(1), seq(2), 'pk', batch, undefined);
    expect(a.log).not.toBe(b.log);
    a.log.info('a');
    b.log.info('b');
    expect(capture.lines.map((l) => [l['msg'], l['sequenceNumber']])).toEqual([
      ['a', seq(1)],
      ['b', seq(2)],
    ]);
  });
});
