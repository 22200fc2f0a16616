/**
 * RecordDecoder (rule 1-3 hot path) at its edges, driven directly: which shard a record is
 * attributed to (eventID = "<shardId>:<sequenceNumber>"), when a record is treated as a KPL aggregate
 * (magic F3 89 9A C2 + protobuf + MD5 trailer; aggregates built with the reference `aws-kinesis-agg`
 * or byte by byte), how `decode` assembles a batch, and how the reused decode buffer copes with
 * records that outgrow it, follow a larger record, or exceed the reuse limit.
 */
import { createHash } from 'node:crypto';
import type { KinesisStreamRecord } from 'aws-lambda';
import agg from 'aws-kinesis-agg';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { RecordDecoder, shardIdOf, type DecodeSettings, type EventValidator } from '../../consumers/runtime/decode';
import { RuntimeInvariantError } from '../../consumers/runtime/errors';
import { ItemStatus, RecordItem, type BatchInfo } from '../../consumers/runtime/record-item';
import type { AnyEvent } from '../../consumers/runtime/types';
import { createFixtures } from '../../schemas/fixtures';
import { EventRegistry, defineEvent, registry as orderRegistry } from '../../schemas/index';
import { createLogger } from '../../telemetry/logger';
import { SHARD_ID, b64, kinesisRecord, seq } from './helpers';

/** RecordAggregator exists in aws-kinesis-agg's JS but not in its type declarations. */
const { RecordAggregator } = agg as unknown as {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; explicitHashKey?: string; data: Buffer }): void;
    build(): { partitionKey: string; data: Buffer };
  };
};

/** The reference producer's aggregate of `records` (magic + protobuf + MD5). */
function referenceAggregate(records: readonly { partitionKey: string; explicitHashKey?: string; data: Buffer }[]): Buffer {
  const aggregator = new RecordAggregator();
  for (const r of records) aggregator.addUserRecord(r);
  return aggregator.build().data;
}

const MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);

/** Protobuf base-128 varint. */
function varint(value: number): Buffer {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return Buffer.from(out);
}

/** An open contract with one unbounded string: any size of valid event. */
const blobV1 = defineEvent({ type: 'test.blob', version: 1, description: 'test blob', data: z.object({ text: z.string() }) });
const blobRegistry = new EventRegistry([blobV1]);

/** A validator over `registry` that records every input reaching its safeParse; its contracts exposed only when asked. */
function recordingValidator(registry: EventValidator<AnyEvent>, { withDefinitions }: { withDefinitions: boolean }) {
  const safeParsed: unknown[] = [];
  const validator: EventValidator<AnyEvent> = {
    ...(withDefinitions ? { definitions: registry.definitions! } : {}),
    safeParse: (input) => {
      safeParsed.push(input);
      return registry.safeParse(input);
    },
  };
  return { validator, safeParsed };
}

let counter = 0;
function blobEvent(text: string, extra: Record<string, unknown> = {}) {
  counter++;
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    type: 'test.blob',
    version: 1,
    occurredAt: '2026-01-01T00:00:00Z',
    source: 'decode-edges',
    hops: 0,
    ...extra,
    data: { text },
  };
}

/** A blob event whose JSON text is exactly `bytes` long (ASCII). */
function blobOfJsonSize(bytes: number) {
  const base = JSON.stringify(blobEvent(''));
  const event = blobEvent('');
  event.data.text = 'x'.repeat(bytes - base.length);
  expect(JSON.stringify(event).length).toBe(bytes);
  return event;
}

const log = createLogger({ name: 'decode-edges', destination: { write: () => true } as never });

function decoder(overrides: Partial<DecodeSettings> = {}): RecordDecoder {
  return new RecordDecoder({ registry: blobRegistry as EventValidator<AnyEvent>, maxHops: 5, maxJsonDepth: 32, ...overrides });
}

function batchInfo(shardId = SHARD_ID): BatchInfo {
  return { shardId, log };
}

function withEventId(record: KinesisStreamRecord, eventID: string | undefined): KinesisStreamRecord {
  const copy = { ...record };
  if (eventID === undefined) delete (copy as { eventID?: string }).eventID;
  else copy.eventID = eventID;
  return copy;
}

/** Expands then loads a single plain record; returns the item. */
function loadPlain(d: RecordDecoder, data: string, index = 0): { item: RecordItem; ok: boolean } {
  const item = d.expand(kinesisRecord(index, data), batchInfo());
  expect(Array.isArray(item)).toBe(false);
  const ok = d.load(item as RecordItem);
  return { item: item as RecordItem, ok };
}

describe('shardIdOf: the shard id part of a Lambda eventID', () => {
  it.each([
    ['shardId-000000000006:49590338271490256608559692538361571095921575989136588898', 'shardId-000000000006'],
    ['shardId-000000000011:1', 'shardId-000000000011'],
    ['shardId-000000000002', 'shardId-000000000002'],
    [':4959', ':4959'],
  ])('%s -> %s', (eventID, expected) => {
    expect(shardIdOf(eventID)).toBe(expected);
  });

  it('is "unknown" without a string eventID', () => {
    expect(shardIdOf(undefined)).toBe('unknown');
    expect(shardIdOf(42 as unknown as string)).toBe('unknown');
  });
});

describe('expand: the shard a record belongs to', () => {
  const sequence = seq(0);

  it('a record of the batch shard shares the batch info (one object per batch)', () => {
    const batch = batchInfo('shardId-000000000003');
    const item = decoder().expand(withEventId(kinesisRecord(0, b64(blobEvent('a'))), `shardId-000000000003:${sequence}`), batch);
    expect(item).toBeInstanceOf(RecordItem);
    expect((item as RecordItem).batch).toBe(batch);
    expect((item as RecordItem).shardId).toBe('shardId-000000000003');
  });

  it('a record without eventID keeps the batch info', () => {
    const batch = batchInfo('shardId-000000000003');
    const item = decoder().expand(withEventId(kinesisRecord(0, b64(blobEvent('a'))), undefined), batch) as RecordItem;
    expect(item.batch).toBe(batch);
    expect(item.shardId).toBe('shardId-000000000003');
  });

  it.each([
    ['another shard of the same id length', `shardId-000000000004:${sequence}`, 'shardId-000000000004'],
    ['a shard id that only starts with the batch one', `shardId-0000000000031:${sequence}`, 'shardId-0000000000031'],
    ['a shard id that ends with the batch one', `xshardId-000000000003:${sequence}`, 'xshardId-000000000003'],
  ])('a record of %s is attributed to its own shard', (_name, eventID, expected) => {
    const batch = batchInfo('shardId-000000000003');
    const item = decoder().expand(withEventId(kinesisRecord(0, b64(blobEvent('a'))), eventID), batch) as RecordItem;
    expect(item.shardId).toBe(expected);
    expect(item.batch).not.toBe(batch);
    expect(item.batch.log).toBe(log);
  });

  it('the user records of an aggregate from another shard are attributed to that shard', () => {
    const batch = batchInfo('shardId-000000000003');
    const data = referenceAggregate([
      { partitionKey: 'a', data: Buffer.from(JSON.stringify(blobEvent('1'))) },
      { partitionKey: 'b', data: Buffer.from(JSON.stringify(blobEvent('2'))) },
    ]).toString('base64');
    const items = decoder().expand(withEventId(kinesisRecord(0, data), `shardId-000000000009:${sequence}`), batch) as RecordItem[];
    expect(items.map((i) => i.shardId)).toEqual(['shardId-000000000009', 'shardId-000000000009']);
  });
});

describe('expand: KPL aggregate detection', () => {
  it('deaggregates an aws-kinesis-agg aggregate into its user records', () => {
    const events = [blobEvent('first'), blobEvent('second'), blobEvent('third')];
    const ehk = String(2n ** 127n + 5n);
    const data = referenceAggregate([
      { partitionKey: 'k-a', data: Buffer.from(JSON.stringify(events[0])) },
      { partitionKey: 'k-b', explicitHashKey: ehk, data: Buffer.from(JSON.stringify(events[1])) },
      { partitionKey: 'k-a', data: Buffer.from(JSON.stringify(events[2])) },
    ]).toString('base64');
    expect(data.startsWith('84maw')).toBe(true);
    const record = kinesisRecord(3, data, 'outer-key');
    const d = decoder();
    const items = d.expand(record, batchInfo());
    expect(Array.isArray(items)).toBe(true);
    const list = items as RecordItem[];
    expect(list.map((i) => i.partitionKey)).toEqual(['k-a', 'k-b', 'k-a']);
    expect(list.map((i) => i.subSequenceNumber)).toEqual([0, 1, 2]);
    expect(list.map((i) => i.explicitHashKey)).toEqual([undefined, ehk, undefined]);
    expect(list.map((i) => i.sequenceNumber)).toEqual([seq(3), seq(3), seq(3)]);
    list.forEach((item, i) => {
      expect(Buffer.from(item.userData!).toString('utf8')).toBe(JSON.stringify(events[i]));
      expect(d.load(item)).toBe(true);
      expect(item.event).toEqual(events[i]);
      expect(item.eventId).toBe(events[i]!.id);
    });
  });

  it('deaggregates a hand-built aggregate (magic + protobuf + MD5 of the protobuf)', () => {
    const event = blobEvent('hand');
    const json = Buffer.from(JSON.stringify(event));
    // partition_key_table[0] = "pk"; records[0] = { partition_key_index: 0, data: json }
    const inner = Buffer.concat([Buffer.from([0x08, 0x00, 0x1a]), varint(json.length), json]);
    const body = Buffer.concat([Buffer.from([0x0a, 0x02]), Buffer.from('pk'), Buffer.from([0x1a]), varint(inner.length), inner]);
    const bytes = Buffer.concat([MAGIC, body, createHash('md5').update(body).digest()]);
    const d = decoder();
    const items = d.expand(kinesisRecord(0, bytes.toString('base64'), 'outer'), batchInfo()) as RecordItem[];
    expect(items).toHaveLength(1);
    expect(items[0]!.partitionKey).toBe('pk');
    expect(items[0]!.subSequenceNumber).toBe(0);
    expect(d.load(items[0]!)).toBe(true);
    expect(items[0]!.event).toEqual(event);
  });

  it('data starting "84maw" without the full magic number is a plain record', () => {
    // F3 89 9A C0: the first 30 bits match the magic number, the last byte does not.
    const body = Buffer.from('{"a":1}');
    const bytes = Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc0]), body, createHash('md5').update(body).digest()]);
    const data = bytes.toString('base64');
    expect(data.startsWith('84maw')).toBe(true);
    const d = decoder();
    const item = d.expand(kinesisRecord(0, data, 'outer'), batchInfo());
    expect(item).toBeInstanceOf(RecordItem);
    expect((item as RecordItem).partitionKey).toBe('outer');
    expect((item as RecordItem).status).toBe(ItemStatus.Pending);
    expect(d.load(item as RecordItem)).toBe(false);
    expect((item as RecordItem).permanent?.kind).toBe('invalid-utf8');
  });

  it('data that only ends with the magic number is a plain record', () => {
    const bytes = Buffer.concat([Buffer.from('{"a":1}  '), MAGIC, Buffer.from([0, 0])]);
    const data = bytes.toString('base64');
    const item = decoder().expand(kinesisRecord(0, data, 'outer'), batchInfo());
    expect(item).toBeInstanceOf(RecordItem);
    expect((item as RecordItem).userData).toBeUndefined();
  });

  it('an aggregate with malformed base64 is not deaggregated (it fails as invalid base64)', () => {
    const good = referenceAggregate([
      { partitionKey: 'a', data: Buffer.from(JSON.stringify(blobEvent('1'))) },
      { partitionKey: 'b', data: Buffer.from(JSON.stringify(blobEvent('2'))) },
    ]).toString('base64');
    // Buffer.from skips the stray characters, so the bytes are still the aggregate.
    const data = `${good.slice(0, 8)}****${good.slice(8)}`;
    expect(Buffer.from(data, 'base64').equals(Buffer.from(good, 'base64'))).toBe(true);
    const d = decoder();
    const item = d.expand(kinesisRecord(0, data, 'outer'), batchInfo());
    expect(item).toBeInstanceOf(RecordItem);
    expect((item as RecordItem).partitionKey).toBe('outer');
    expect(d.load(item as RecordItem)).toBe(false);
    expect((item as RecordItem).permanent?.kind).toBe('invalid-base64');
    expect((item as RecordItem).permanent?.message).toMatch(/base64/);
  });

  it('a corrupt aggregate (MD5 mismatch) becomes one quarantined item with the reason', () => {
    const bytes = referenceAggregate([
      { partitionKey: 'a', data: Buffer.from(JSON.stringify(blobEvent('1'))) },
      { partitionKey: 'b', data: Buffer.from(JSON.stringify(blobEvent('2'))) },
    ]);
    bytes[12] = bytes[12]! ^ 0x01; // inside the protobuf body: the MD5 trailer no longer matches
    const record = kinesisRecord(4, bytes.toString('base64'), 'outer');
    const item = decoder().expand(record, batchInfo());
    expect(item).toBeInstanceOf(RecordItem);
    const one = item as RecordItem;
    expect(one.status).toBe(ItemStatus.ToQuarantine);
    expect(one.permanent?.kind).toBe('corrupt-aggregate');
    expect(one.permanent?.message).toMatch(/^KPL aggregate is corrupt: .*MD5/);
    expect(one.partitionKey).toBe('outer');
    expect(one.sequenceNumber).toBe(seq(4));
    expect(one.source).toBe(record);
    expect(one.rawValue).toBeUndefined();
  });

  it('a truncated aggregate with a matching MD5 becomes one quarantined item', () => {
    const json = Buffer.from(JSON.stringify(blobEvent('t')));
    // records[0] claims 100 bytes of data but the body ends after json.length of them
    const body = Buffer.concat([Buffer.from([0x0a, 0x01]), Buffer.from('k'), Buffer.from([0x1a, 0x66, 0x08, 0x00, 0x1a, 0x64]), json.subarray(0, 10)]);
    const bytes = Buffer.concat([MAGIC, body, createHash('md5').update(body).digest()]);
    const item = decoder().expand(kinesisRecord(0, bytes.toString('base64'), 'outer'), batchInfo()) as RecordItem;
    expect(item).toBeInstanceOf(RecordItem);
    expect(item.status).toBe(ItemStatus.ToQuarantine);
    expect(item.permanent?.kind).toBe('corrupt-aggregate');
  });
});

describe('decode: a whole batch', () => {
  it('expands every record in order, aggregates inline, with the oldest arrival time', () => {
    const events = [blobEvent('p0'), blobEvent('u0'), blobEvent('u1'), blobEvent('p2'), blobEvent('p3')];
    const aggregate = referenceAggregate([
      { partitionKey: 'ua', data: Buffer.from(JSON.stringify(events[1])) },
      { partitionKey: 'ub', data: Buffer.from(JSON.stringify(events[2])) },
    ]).toString('base64');
    const r0 = kinesisRecord(0, b64(events[0]), 'p0');
    const r1 = kinesisRecord(1, aggregate, 'outer');
    const r2 = kinesisRecord(2, b64(events[3]), 'p2');
    const r3 = withEventId(kinesisRecord(3, b64(events[4]), 'p3'), undefined);
    r0.kinesis.approximateArrivalTimestamp = 1_767_225_700.5;
    r1.kinesis.approximateArrivalTimestamp = 1_767_225_600.25; // the oldest, not first nor last
    r2.kinesis.approximateArrivalTimestamp = 1_767_225_800;
    r3.kinesis.approximateArrivalTimestamp = 1_767_225_650;
    const d = decoder();
    const { items, oldestArrivalMs } = d.decode([r0, r1, r2, r3], SHARD_ID, log);
    expect(oldestArrivalMs).toBe(1_767_225_600_250);
    expect(items).toHaveLength(5);
    expect(items.every((i) => i instanceof RecordItem)).toBe(true);
    expect(items.map((i) => i.partitionKey)).toEqual(['p0', 'ua', 'ub', 'p2', 'p3']);
    expect(items.map((i) => i.subSequenceNumber)).toEqual([undefined, 0, 1, undefined, undefined]);
    // one batch info shared by every item of the shard
    const batch = items[0]!.batch;
    expect(batch.shardId).toBe(SHARD_ID);
    expect(batch.log).toBe(log);
    for (const item of items) expect(item.batch).toBe(batch);
    items.forEach((item, i) => {
      expect(d.load(item)).toBe(true);
      expect(item.event).toEqual(events[i]);
    });
  });

  it('an empty batch has no items and no oldest arrival', () => {
    expect(decoder().decode([], SHARD_ID, log)).toEqual({ items: [], oldestArrivalMs: Infinity });
  });

  it.each([
    ['no kinesis', (r: Record<string, unknown>) => delete r['kinesis']],
    ['data not a string', (r: { kinesis: Record<string, unknown> }) => (r.kinesis['data'] = 5)],
    ['no sequence number', (r: { kinesis: Record<string, unknown> }) => delete r.kinesis['sequenceNumber']],
    ['an empty sequence number', (r: { kinesis: Record<string, unknown> }) => (r.kinesis['sequenceNumber'] = '')],
    ['no partition key', (r: { kinesis: Record<string, unknown> }) => delete r.kinesis['partitionKey']],
    ['an arrival time that is not a number', (r: { kinesis: Record<string, unknown> }) => (r.kinesis['approximateArrivalTimestamp'] = '1')],
  ])('a record with %s fails the invocation naming its index', (_name, spoil) => {
    const good = kinesisRecord(0, b64(blobEvent('ok')));
    const bad = kinesisRecord(1, b64(blobEvent('bad')));
    const badCopy = { ...bad, kinesis: { ...bad.kinesis } };
    (spoil as (r: unknown) => void)(badCopy);
    const d = decoder();
    expect(() => d.decode([good, badCopy as KinesisStreamRecord], SHARD_ID, log)).toThrowError(RuntimeInvariantError);
    expect(() => d.check([good, badCopy as KinesisStreamRecord])).toThrow(/Records\[1\] is not a Kinesis stream record/);
  });
});

describe('load: the reused decode buffer', () => {
  it('grows for a first record far beyond its initial size (decoded length a multiple of 3)', () => {
    const event = blobOfJsonSize(60_000);
    const { item, ok } = loadPlain(decoder(), b64(event));
    expect(item.permanent).toBeUndefined();
    expect(ok).toBe(true);
    expect(item.event).toEqual(event);
  });

  it('grows step by step and never mixes records of any size in any order', () => {
    const d = decoder();
    // sizes chosen around the initial 16 KiB, doubling, padding 0/1/2 and beyond the 256 KiB reuse limit
    const sizes = [20_001, 9, 40_002, 16_384, 70_000, 262_140, 300_001, 31, 262_146, 0];
    sizes.forEach((size, i) => {
      const event = size < 1000 ? blobEvent('s'.repeat(size)) : blobOfJsonSize(size);
      const { item, ok } = loadPlain(d, b64(event), i);
      expect(item.permanent, `record ${i} (${size} bytes)`).toBeUndefined();
      expect(ok).toBe(true);
      expect(item.event).toEqual(event);
    });
  });

  it('a large record over the reuse limit decodes from its own buffer', () => {
    const event = blobOfJsonSize(700_000);
    const { item, ok } = loadPlain(decoder(), b64(event));
    expect(ok).toBe(true);
    expect(item.event).toEqual(event);
  });

  it('a short record after a larger invalid UTF-8 one is judged on its own bytes only', () => {
    const d = decoder();
    const bad = loadPlain(d, Buffer.alloc(30_000, 0xff).toString('base64'), 0);
    expect(bad.ok).toBe(false);
    expect(bad.item.permanent?.kind).toBe('invalid-utf8');
    expect(bad.item.permanent?.message).toMatch(/UTF-8/);
    const event = blobEvent('after');
    const good = loadPlain(d, b64(event), 1);
    expect(good.item.permanent).toBeUndefined();
    expect(good.ok).toBe(true);
    expect(good.item.event).toEqual(event);
  });

  it('a short truncated JSON after a longer valid one is invalid JSON (no leftover bytes read)', () => {
    const d = decoder();
    const long = blobEvent('y'.repeat(5000));
    expect(loadPlain(d, b64(long), 0).ok).toBe(true);
    const text = JSON.stringify(blobEvent('z'));
    const cut = loadPlain(d, b64(text.slice(0, 40)), 1);
    expect(cut.ok).toBe(false);
    expect(cut.item.permanent?.kind).toBe('invalid-json');
    expect(cut.item.status).toBe(ItemStatus.ToQuarantine);
  });

  it.each([
    ['one padding character', 1],
    ['two padding characters', 2],
    ['no padding', 0],
  ])('accepts well-formed base64 with %s', (_name, pad) => {
    let event = blobEvent('');
    for (let n = 0; n < 3; n++) {
      event = blobEvent('p'.repeat(n));
      if ((3 - (JSON.stringify(event).length % 3)) % 3 === pad) break;
    }
    const data = b64(event);
    expect(data.length - data.replace(/=+$/, '').length).toBe(pad);
    const { item, ok } = loadPlain(decoder(), data);
    expect(item.permanent).toBeUndefined();
    expect(ok).toBe(true);
    expect(item.event).toEqual(event);
  });

  it.each([
    ['a length that is not a multiple of 4', b64(blobEvent('abc')).replace(/=+$/, '').slice(0, -1)],
    ['padding in the middle', `${b64('{"a":')}${b64('1}')}`],
    ['characters outside the alphabet', `${b64(blobEvent('abc')).slice(0, 8)}!!!!${b64(blobEvent('abc')).slice(8)}`],
  ])('rejects base64 with %s', (_name, data) => {
    const { item, ok } = loadPlain(decoder(), data);
    expect(ok).toBe(false);
    expect(item.status).toBe(ItemStatus.ToQuarantine);
    expect(item.permanent?.kind).toBe('invalid-base64');
    expect(item.permanent?.message).toBe(`data is not valid base64 (${data.length} characters)`);
  });

  it.each([1, 2, 3])('rejects base64 with %i stray trailing character(s) after complete groups', (extra) => {
    let event = blobEvent('');
    for (let n = 0; JSON.stringify(event).length % 3 !== 0; n++) event = blobEvent('q'.repeat(n));
    const data = b64(event) + 'A'.repeat(extra);
    expect(data.includes('=')).toBe(false);
    const { item, ok } = loadPlain(decoder(), data);
    expect(ok).toBe(false);
    expect(item.permanent?.kind).toBe('invalid-base64');
  });

  it('rejects malformed base64 over the reuse limit too', () => {
    const good = b64(blobOfJsonSize(300_000));
    const data = `${good.slice(0, 100)}!!!!${good.slice(100)}`;
    const { item, ok } = loadPlain(decoder(), data);
    expect(ok).toBe(false);
    expect(item.permanent?.kind).toBe('invalid-base64');
  });
});

describe('load: validation outcome of a decoded record', () => {
  it('a valid order event fills the item from the envelope', () => {
    const f = createFixtures({ seed: 11 });
    const event = { ...f.orderPaid(), traceId: 'trace-decode-edges-1' };
    const d = decoder({ registry: orderRegistry as unknown as EventValidator<AnyEvent> });
    const { item, ok } = loadPlain(d, b64(event));
    expect(ok).toBe(true);
    expect(item.event).toEqual(event);
    expect(item.eventId).toBe(event.id);
    expect(item.eventType).toBe('order.paid');
    expect(item.eventVersion).toBe(1);
    expect(item.traceId).toBe('trace-decode-edges-1');
    expect(item.status).toBe(ItemStatus.Pending);
  });

  it('hops at the limit pass, above it the loop guard quarantines', () => {
    const d = decoder({ maxHops: 3 });
    const at = loadPlain(d, b64(blobEvent('h', { hops: 3 })));
    expect(at.ok).toBe(true);
    const over = blobEvent('h', { hops: 4 });
    const above = loadPlain(d, b64(over), 1);
    expect(above.ok).toBe(false);
    expect(above.item.permanent?.kind).toBe('hops-exceeded');
    expect(above.item.permanent?.message).toMatch(/hops 4 exceeds the limit of 3/);
    expect(above.item.rawValue).toEqual(over);
  });

  it('works with a validator that exposes no definitions (every record through safeParse)', () => {
    const { validator, safeParsed } = recordingValidator(blobRegistry, { withDefinitions: false });
    const d = decoder({ registry: validator });
    const event = blobEvent('plain');
    const { item, ok } = loadPlain(d, b64(event));
    expect(ok).toBe(true);
    expect(item.event).toEqual(event);
    expect(safeParsed).toEqual([event]);
  });

  it('validates a well-formed event with the contract schema the validator provides (once per contract), without safeParse', () => {
    const blobV2 = defineEvent({ type: 'test.blob', version: 2, description: 'test blob v2', data: z.object({ text: z.string() }) });
    const inner = new EventRegistry([blobV1, blobV2]);
    const recording = recordingValidator(inner, { withDefinitions: true });
    const { safeParsed } = recording;
    const validatorFor: string[] = [];
    const schemaRuns: unknown[] = [];
    const validator: EventValidator<AnyEvent> = {
      ...recording.validator,
      validator: (definition) => {
        validatorFor.push(`${definition.type} v${definition.version}`);
        const schema = definition.schema as z.ZodType;
        return { schema: { safeParse: (v: unknown) => (schemaRuns.push(v), schema.safeParse(v)) } as unknown as z.ZodType };
      },
    };
    const d = decoder({ registry: validator });
    const events = [blobEvent('v1-a'), blobEvent('v1-b'), { ...blobEvent('v2'), version: 2 }];
    events.forEach((event, i) => {
      const { item, ok } = loadPlain(d, b64(event), i);
      expect(ok).toBe(true);
      expect(item.event).toEqual(event);
      expect(item.eventVersion).toBe(event.version);
    });
    expect(safeParsed).toEqual([]);
    expect(validatorFor).toEqual(['test.blob v1', 'test.blob v2']);
    expect(schemaRuns).toEqual(events);
    // a violation still gets the registry's explanation
    const bad = { ...blobEvent('x'), data: { text: 1 } };
    const { item, ok } = loadPlain(d, b64(bad), 9);
    expect(ok).toBe(false);
    expect(item.permanent?.kind).toBe('schema');
    expect(safeParsed).toEqual([bad]);
  });

  it('validates with the definition schema when the validator exposes definitions but no per-contract schema', () => {
    const { validator, safeParsed } = recordingValidator(blobRegistry, { withDefinitions: true });
    const d = decoder({ registry: validator });
    const event = blobEvent('no-validator');
    const { item, ok } = loadPlain(d, b64(event));
    expect(ok).toBe(true);
    expect(item.event).toEqual(event);
    expect(safeParsed).toEqual([]);
  });

  describe('an open contract (its output can carry any keys and nesting)', () => {
    const looseV1 = defineEvent({ type: 'test.loose', version: 1, description: 'open', data: z.looseObject({ text: z.string() }) });
    const loose = new EventRegistry([looseV1]) as unknown as EventValidator<AnyEvent>;
    const looseEvent = (data: Record<string, unknown>) => ({ ...blobEvent(''), type: 'test.loose', data: { text: 't', ...data } });

    it('accepts a well-formed event within the depth limit', () => {
      const event = looseEvent({ extra: { a: [{ b: 1 }] } });
      const { item, ok } = loadPlain(decoder({ registry: loose, maxJsonDepth: 5 }), b64(event));
      expect(item.permanent).toBeUndefined();
      expect(ok).toBe(true);
      expect(item.event).toEqual(event);
    });

    it('quarantines a forbidden key the contract lets through', () => {
      const event = looseEvent({ extra: { constructor: { x: 1 } } });
      const { item, ok } = loadPlain(decoder({ registry: loose }), b64(event));
      expect(ok).toBe(false);
      expect(item.status).toBe(ItemStatus.ToQuarantine);
      expect(item.permanent?.kind).toBe('forbidden-key');
      expect(item.rawValue).toEqual(event);
      expect(item.event).toBeUndefined();
    });

    it('quarantines nesting deeper than the limit the contract lets through', () => {
      const event = looseEvent({ extra: { a: { b: { c: { d: 1 } } } } });
      // envelope 1, data 2, extra 3, a 4, b 5, c 6
      const d = decoder({ registry: loose, maxJsonDepth: 5 });
      const { item, ok } = loadPlain(d, b64(event));
      expect(ok).toBe(false);
      expect(item.permanent?.kind).toBe('too-deep');
      const { ok: okAt } = loadPlain(decoder({ registry: loose, maxJsonDepth: 6 }), b64(event), 1);
      expect(okAt).toBe(true);
    });
  });

  // A closed contract (safe-json.ts, closed-schema.ts): its output names only the keys it declares, so a
  // forbidden key or deep nesting under a key it does not name is stripped by the schema, not rejected,
  // and the handler never sees it. Where the schema does not strip (the strict envelope), the key fails
  // validation and the reason given is the more specific forbidden-key one.
  describe('a closed contract (strict envelope, stripping data object)', () => {
    it('strips a forbidden key or deep nesting inside a stripping object: accepted, absent from the event', () => {
      for (const extra of [{ constructor: { prototype: { admin: true } } }, { nested: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)) as unknown }]) {
        const event = blobEvent('kept');
        const text = JSON.stringify({ ...event, data: { ...event.data, ...extra } });
        const { item, ok } = loadPlain(decoder({ maxJsonDepth: 8 }), Buffer.from(text).toString('base64'));
        expect(item.permanent).toBeUndefined();
        expect(ok).toBe(true);
        expect(item.event).toEqual(event);
        const data = (item.event as { data: object }).data;
        expect(Object.keys(data)).toEqual(['text']);
        expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
      }
    });

    it('strips "__proto__" inside a stripping object without touching any prototype', () => {
      const event = blobEvent('kept');
      const text = JSON.stringify(event).replace('"data":{', '"data":{"__proto__":{"admin":true},');
      const { item, ok } = loadPlain(decoder(), Buffer.from(text).toString('base64'));
      expect(ok).toBe(true);
      const data = (item.event as { data: Record<string, unknown> }).data;
      expect(Object.hasOwn(data, '__proto__')).toBe(false);
      expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
    });

    it.each(['__proto__', 'constructor', 'prototype'])('quarantines "%s" in the strict envelope with the forbidden-key reason', (key) => {
      const event = blobEvent('x');
      const text = JSON.stringify(event).replace('{', `{"${key}":{"x":1},`);
      const { item, ok } = loadPlain(decoder(), Buffer.from(text).toString('base64'));
      expect(ok).toBe(false);
      expect(item.status).toBe(ItemStatus.ToQuarantine);
      expect(item.permanent?.kind).toBe('forbidden-key');
      expect(item.permanent?.message).toContain(`"${key}"`);
      expect(item.event).toBeUndefined();
    });
  });

  describe('a recursive contract that overflows the stack on deep input', () => {
    type Tree = { c: Tree[] };
    const tree: z.ZodType<Tree> = z.lazy(() => z.object({ c: z.array(tree) }));
    const treeV1 = defineEvent({ type: 'test.tree', version: 1, description: 'recursive', data: z.object({ root: tree }) });
    const trees = new EventRegistry([treeV1]) as unknown as EventValidator<AnyEvent>;
    const deep = (levels: number) => `{"c":[`.repeat(levels) + `{"c":[]}` + `]}`.repeat(levels);
    const text = (levels: number) =>
      `{"id":"00000000-0000-4000-8000-000000000999","type":"test.tree","version":1,"occurredAt":"2026-01-01T00:00:00Z","source":"t","data":{"root":${deep(levels)}}}`;

    it('validates a shallow tree', () => {
      const { item, ok } = loadPlain(decoder({ registry: trees }), b64(text(3)));
      expect(ok).toBe(true);
      expect(item.eventType).toBe('test.tree');
    });

    it('quarantines a tree too deep to validate: with the depth reason when over the limit', () => {
      const { item, ok } = loadPlain(decoder({ registry: trees, maxJsonDepth: 32 }), b64(text(100_000)));
      expect(ok).toBe(false);
      expect(item.status).toBe(ItemStatus.ToQuarantine);
      expect(item.permanent?.kind).toBe('too-deep');
      expect(item.rawValue).toBeTypeOf('object');
    });

    it('quarantines a tree too deep to validate even when the depth limit allows it', () => {
      const { item, ok } = loadPlain(decoder({ registry: trees, maxJsonDepth: 1_000_000 }), b64(text(100_000)));
      expect(ok).toBe(false);
      expect(item.permanent?.kind).toBe('too-deep');
      expect(item.permanent?.message).toMatch(/too deep/);
    });
  });

  it('an error other than a stack overflow while validating is not swallowed', () => {
    const failing: EventValidator<AnyEvent> = {
      safeParse: () => {
        throw new TypeError('validator bug');
      },
    };
    const d = decoder({ registry: failing });
    expect(() => loadPlain(d, b64(blobEvent('x')))).toThrow(TypeError);
  });

  it('an unknown type is quarantined with the registry reason and no issues', () => {
    const value = { ...blobEvent('u'), type: 'test.unknown' };
    const { item, ok } = loadPlain(decoder(), b64(value));
    expect(ok).toBe(false);
    expect(item.permanent?.kind).toBe('unknown-type');
    expect(item.permanent).not.toHaveProperty('issues');
    expect(item.rawValue).toEqual(value);
  });

  it('a contract violation is quarantined with its issues and the parsed value', () => {
    const value = { ...blobEvent('v'), data: { text: 5 } };
    const { item, ok } = loadPlain(decoder(), b64(value));
    expect(ok).toBe(false);
    expect(item.permanent?.kind).toBe('schema');
    expect(item.permanent?.issues?.map((i) => i.path)).toContain('data.text');
    expect(item.rawValue).toEqual(value);
  });

  it('JSON null and non-object JSON are quarantined, not thrown', () => {
    for (const text of ['null', '42', '"s"']) {
      const { item, ok } = loadPlain(decoder(), b64(text));
      expect(ok).toBe(false);
      expect(item.status).toBe(ItemStatus.ToQuarantine);
    }
  });
});
