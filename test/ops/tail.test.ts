/** `ops tail` on real kinesalite data: valid, invalid and KPL-aggregated records, across shards. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeAggregate } from '../../kinesis/kpl';
import { tailStream } from '../../ops/aws/stream-tailer';
import { runCli } from '../../ops/cli';
import { parseSince } from '../../ops/commands/tail';
import { createFixtures } from '../../schemas/fixtures';
import type { OrderEvent } from '../../schemas/index';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';
import { captureIo, createStream, json, localDataDir, putRecords, type StreamHandle, type Written } from './helpers';

let kinesis: EmbeddedKinesis;
let stream: StreamHandle;
let dataDir: string;
let valid: OrderEvent[];
let aggregated: OrderEvent[];
let written: Written[];
const invalidKinds: string[] = [];

beforeAll(async () => {
  kinesis = await startKinesalite();
  stream = await createStream(kinesis.endpoint, 'tail-orders', 2);
  dataDir = await localDataDir(kinesis.endpoint, { orders: stream.arn });
  const fixtures = createFixtures({ seed: 21 });
  valid = fixtures.take(8);
  const invalid = [fixtures.invalid(), fixtures.invalid(), fixtures.invalid()];
  invalidKinds.push(...invalid.map((i) => i.kind));
  aggregated = [fixtures.orderPlaced(), fixtures.orderPlaced(), fixtures.orderPaid()];
  const key = (e: OrderEvent) => e.data.orderId;
  written = await putRecords(stream, [
    ...valid.map((e) => ({ partitionKey: key(e), data: json(e) })),
    ...invalid.map((i, n) => ({ partitionKey: `invalid-${n}`, data: json(i.value) })),
    { partitionKey: 'not-json', data: new TextEncoder().encode('{"type": nope') },
    { partitionKey: key(aggregated[0]!), data: encodeAggregate(aggregated.map((e) => ({ partitionKey: key(e), data: json(e) }))) },
  ]);
});
afterAll(async () => {
  await kinesis.stop();
});

const tail = async (...args: string[]) => {
  const { io, out } = captureIo();
  const code = await runCli(['tail', '--local', '--data-dir', dataDir, '--from', 'trim-horizon', '--until-caught-up', '--poll-interval-ms', '10', ...args], { io });
  return { code, out };
};

describe('ops tail', () => {
  it('prints one line per event of every shard: valid, invalid with its reason, aggregated user records', async () => {
    const { code, out } = await tail();
    expect(code).toBe(0);
    expect(new Set(written.map((w) => w.shardId)).size).toBe(2); // the data spans both shards
    expect(out).toHaveLength(valid.length + 3 + 1 + aggregated.length);
    for (const event of valid) {
      const line = out.find((l) => l.includes(`key=${event.data.orderId} `) && l.includes(event.type) && !l.includes('#'));
      expect(line, event.id).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z shardId-\\d{12} \\d+ key=${event.data.orderId} ${event.type} v1 valid$`));
    }
    const invalidLines = out.filter((l) => l.includes('INVALID'));
    expect(invalidLines).toHaveLength(4);
    expect(out.find((l) => l.includes('key=not-json'))).toMatch(/INVALID invalid-json: /);
    // The aggregate's user records: their own keys, sub-sequence numbers, one Kinesis sequence number.
    const sub = out.filter((l) => /\d#\d /.test(l));
    expect(sub).toHaveLength(3);
    aggregated.forEach((event, i) => {
      expect(sub[i]).toContain(`${written.at(-1)!.sequenceNumber}#${i} key=${event.data.orderId} ${event.type} v1 valid`);
    });
  });

  it('--json prints one parseable object per event with the failure reason', async () => {
    const { out } = await tail('--json');
    const events = out.map((l) => JSON.parse(l));
    expect(events).toHaveLength(valid.length + 3 + 1 + aggregated.length);
    const invalid = events.filter((e) => !e.valid);
    expect(invalid).toHaveLength(4);
    for (const e of invalid) {
      expect(typeof e.reason).toBe('string');
      expect(e.reason.length).toBeGreaterThan(0);
    }
    // The runtime's failure kind of each record, from what was put: the fixture's label (its contract
    // error kind, as test/schemas/fixtures.test.ts pins it) and the non-JSON record.
    const contractKind = (label: string) => (label === 'unknown-type' || label === 'unknown-version' ? label : 'schema');
    expect(Object.fromEntries(invalid.map((e) => [e.partitionKey, e.failureKind]))).toEqual({
      ...Object.fromEntries(invalidKinds.map((label, n) => [`invalid-${n}`, contractKind(label)])),
      'not-json': 'invalid-json',
    });
    expect(events.filter((e) => e.subSequenceNumber !== undefined).map((e) => e.id)).toEqual(aggregated.map((e) => e.id));
  });

  it('--filter type=... and valid=false select events; --limit stops', async () => {
    const placed = [...valid, ...aggregated].filter((e) => e.type === 'order.placed');
    const byType = await tail('--filter', 'type=order.placed', '--filter', 'valid=true');
    expect(byType.out).toHaveLength(placed.length);
    expect(byType.out.every((l) => l.includes(' order.placed v1 valid'))).toBe(true);
    const bad = await tail('--filter', 'valid=false');
    expect(bad.out).toHaveLength(4);
    const limited = await tail('--limit', '2');
    expect(limited.out).toHaveLength(2);
  });

  it('--since starts at a time (every shard, even one with nothing newer)', async () => {
    // kinesalite stamps arrival with Date.now() (never before the stream's creation): shift both.
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 2 * 3_600_000);
    const since = await createStream(kinesis.endpoint, 'tail-since', 2);
    await putRecords(since, [{ partitionKey: 'two-hours-ago', data: json({}) }]);
    spy.mockRestore();
    const dir = await localDataDir(kinesis.endpoint, { orders: since.arn });
    await putRecords(since, [{ partitionKey: 'now', data: json({}) }]);
    const { io, out } = captureIo();
    expect(await runCli(['tail', '--local', '--data-dir', dir, '--since', '1h', '--until-caught-up', '--poll-interval-ms', '10'], { io })).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toContain('key=now');
  });

  it('tailStream sends AT_TIMESTAMP to Kinesis when not scanning (the AWS path)', async () => {
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 2 * 3_600_000);
    const s = await createStream(kinesis.endpoint, 'tail-at-timestamp', 1);
    await putRecords(s, [{ partitionKey: 'old', data: json({}) }]);
    spy.mockRestore();
    await putRecords(s, [{ partitionKey: 'new', data: json({}) }]);
    const types: string[] = [];
    s.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetShardIteratorCommand') types.push((args.input as { ShardIteratorType: string }).ShardIteratorType);
        return next(args);
      },
      { step: 'initialize', name: 'iteratorTypes' },
    );
    const keys: string[] = [];
    await tailStream({
      kinesis: s.client,
      streamName: s.name,
      start: { type: 'AT_TIMESTAMP', timestamp: new Date(realNow() - 3_600_000) },
      untilCaughtUp: true,
      pollIntervalMs: 10,
      onRecords: (_shard, records) => {
        keys.push(...records.map((r) => r.PartitionKey!));
      },
    });
    expect(types).toEqual(['AT_TIMESTAMP']);
    expect(keys).toEqual(['new']);
  });

  it('explains bad options', async () => {
    const { io, err } = captureIo();
    expect(await runCli(['tail', '--local', '--data-dir', dataDir, '--filter', 'colour=red'], { io })).toBe(2);
    expect(err[0]).toContain('--filter "colour=red"');
    expect(() => parseSince('yesterday')).toThrow(/ISO-8601/);
    expect(parseSince('15m', 1_000_000_000).getTime()).toBe(1_000_000_000 - 900_000);
  });
});
