/** Rule 4 with the AWS sink: SendMessageBatch batching, size limits, by-reference, partial failures. */
import { SQSClient, SendMessageBatchCommand, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_MESSAGE_BYTES_LIMIT,
  SqsQuarantineSink,
  createKinesisHandler,
  serializeQuarantineRecord,
  withoutPayload,
  type QuarantineRecord,
} from '../../consumers/runtime/index';
import { registry, type OrderEvent } from '../../schemas/index';
import { createFixtures } from '../../schemas/fixtures';
import { LogCapture, b64, kinesisEvent, kinesisRecord, lambdaContext, quarantineRecord, seq } from './helpers';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders-quarantine';
const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

const record = (i: number, dataBytes = 100, message = 'data is not valid JSON'): QuarantineRecord =>
  quarantineRecord(i, { message, data: Buffer.alloc(dataBytes, 65) });

const calls = () => sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input as SendMessageBatchCommandInput);

describe('SqsQuarantineSink', () => {
  it('without an injected client, creates the default SQS client on the first write and reuses it', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE });
    expect(await sink.write([record(1)])).toEqual([]);
    expect(await sink.write([record(2)])).toEqual([]);
    const clients = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.thisValue);
    expect(clients).toHaveLength(2);
    expect(clients[0]).toBeInstanceOf(SQSClient);
    expect(clients[1]).toBe(clients[0]);
  });

  it(`sends at most ${SQS_MAX_BATCH_ENTRIES} entries per SendMessageBatch`, async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: new SQSClient({ region: 'eu-west-1' }) });
    expect(await sink.write(Array.from({ length: 23 }, (_, i) => record(i)))).toEqual([]);
    expect(calls().map((c) => c.Entries!.length)).toEqual([10, 10, 3]);
    const bodies = calls().flatMap((c) => c.Entries!.map((e) => JSON.parse(e.MessageBody!) as QuarantineRecord));
    expect(bodies.map((b) => b.record.sequenceNumber)).toEqual(Array.from({ length: 23 }, (_, i) => seq(i)));
    expect(calls().every((c) => c.QueueUrl === QUEUE)).toBe(true);
  });

  it('keeps the sum of bodies in a batch within the byte limit', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: new SQSClient({ region: 'eu-west-1' }) });
    await sink.write(Array.from({ length: 5 }, (_, i) => record(i, 70_000)));
    const sizes = calls().map((c) => c.Entries!.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody!, 'utf8'), 0));
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(262_144);
    expect(calls().reduce((n, c) => n + c.Entries!.length, 0)).toBe(5);
  });

  it('quarantines a record too large for one message by reference, never truncated silently', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: new SQSClient({ region: 'eu-west-1' }) });
    await sink.write([record(0, 300_000), record(1)]);
    const bodies = calls().flatMap((c) => c.Entries!.map((e) => JSON.parse(e.MessageBody!) as QuarantineRecord));
    expect(bodies[0]!.record).toMatchObject({ sequenceNumber: seq(0), shardId: 'shardId-000000000000', dataBytes: 300_000, dataOmitted: 'too-large' });
    expect(bodies[0]!.record.data).toBeUndefined();
    expect(bodies[0]!.error.message).toBe('data is not valid JSON');
    expect(bodies[1]!.record.data).toBe(record(1).record.data);
  });

  it('honours a larger queue limit (SQS allows up to 1 MiB)', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: new SQSClient({ region: 'eu-west-1' }), maxMessageBytes: 1_048_576 });
    await sink.write([record(0, 300_000)]);
    const body = JSON.parse(calls()[0]!.Entries![0]!.MessageBody!) as QuarantineRecord;
    expect(body.record.dataOmitted).toBeUndefined();
    expect(() => new SqsQuarantineSink({ queueUrl: QUEUE, maxMessageBytes: 2_000_000 })).toThrow(/1048576/);
  });

  it('retries entries that failed without sender fault once, and reports sender faults', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Failed: [
          { Id: '1', SenderFault: false, Code: 'InternalError' },
          { Id: '2', SenderFault: true, Code: 'InvalidMessageContents' },
        ],
      })
      .resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: new SQSClient({ region: 'eu-west-1' }) });
    expect(await sink.write([record(0), record(1), record(2)])).toEqual([2]);
    expect(calls().map((c) => c.Entries!.map((e) => e.Id))).toEqual([['0', '1', '2'], ['1']]);
  });

  it('gives FIFO queues a message group (the shard) and a deduplication id (sequence + sub-sequence)', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: `${QUEUE}.fifo`, client: new SQSClient({ region: 'eu-west-1' }) });
    await sink.write([record(0)]);
    const entry = calls()[0]!.Entries![0]!;
    expect(entry.MessageGroupId).toBe('shardId-000000000000');
    expect(entry.MessageDeduplicationId).toBe(`${seq(0)}-0`);
  });

  it('rejects when nothing could be written', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('AccessDenied'));
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: new SQSClient({ region: 'eu-west-1' }) });
    await expect(sink.write([record(0), record(1)])).rejects.toThrow(/no record could be written/);
  });

  it('escapes characters SQS does not accept', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: new SQSClient({ region: 'eu-west-1' }) });
    await sink.write([record(0, 10, 'bad \uffff char \u0001')]);
    const body = calls()[0]!.Entries![0]!.MessageBody!;
    expect(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(body)).toBe(false);
    expect((JSON.parse(body) as QuarantineRecord).error.message).toBe('bad \uffff char \u0001');
  });

  it('end to end: records whose quarantine write failed are redelivered from the lowest one', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Failed: input.Entries!.filter((e) => e.Id === '1').map((e) => ({ Id: e.Id, SenderFault: true, Code: 'InvalidMessageContents' })),
    }));
    const f = createFixtures({ seed: 1 });
    const handler = createKinesisHandler<OrderEvent>({
      consumerName: 'sqs-e2e',
      registry,
      quarantine: new SqsQuarantineSink({ queueUrl: QUEUE, client: new SQSClient({ region: 'eu-west-1' }) }),
      logDestination: new LogCapture(),
      metrics: false,
      handlers: {},
    });
    const event = kinesisEvent([f.orderPaid(), 'bad-1', f.orderPaid(), 'bad-3', 'bad-4']);
    event.Records[4] = kinesisRecord(4, b64('bad-4'));
    const res = await handler(event, lambdaContext());
    // entries 0,1,2 of the SQS batch = records 1,3,4; entry "1" (record 3) failed
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(3) }]);
  });
  it('end to end: a bad record larger than one SQS message is quarantined by reference and the shard moves on', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const handler = createKinesisHandler<OrderEvent>({
      consumerName: 'sqs-large',
      registry,
      quarantine: new SqsQuarantineSink({ queueUrl: QUEUE, client: new SQSClient({ region: 'eu-west-1' }) }),
      logDestination: new LogCapture(),
      metrics: false,
      handlers: {},
    });
    const big = b64(`{"note":"${'x'.repeat(400_000)}"`); // truncated JSON, 400 kB: larger than a 256 KiB message
    const res = await handler({ Records: [kinesisRecord(0, big, 'big-key')] }, lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    const body = calls()[0]!.Entries![0]!.MessageBody!;
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThanOrEqual(262_144);
    const q = JSON.parse(body) as QuarantineRecord;
    expect(q.error.kind).toBe('invalid-json');
    expect(q.record).toMatchObject({ sequenceNumber: seq(0), partitionKey: 'big-key', dataOmitted: 'too-large', dataBytes: Buffer.from(big, 'base64').length });
    expect(q.record.data).toBeUndefined(); // never a truncated payload
  });
});

const client = () => new SQSClient({ region: 'eu-west-1' });
const bytesOf = (text: string): number => Buffer.byteLength(text, 'utf8');
const referenceBody = (r: QuarantineRecord): string => serializeQuarantineRecord(withoutPayload(r));

/** record(i, dataBytes) with its message padded so that `measure(record)` is exactly `bytes` long. */
function recordOfSize(i: number, bytes: number, dataBytes = 100, measure = serializeQuarantineRecord): QuarantineRecord {
  const padded = record(i, dataBytes, 'm'.repeat(bytes - bytesOf(measure(record(i, dataBytes, '')))));
  expect(bytesOf(measure(padded))).toBe(bytes);
  return padded;
}

const batchIds = () => calls().map((c) => c.Entries!.map((e) => e.Id));

describe('SqsQuarantineSink: limits and boundaries', () => {
  // A queue's MaximumMessageSize is 1,024..1,048,576 bytes (SQS quotas); the sink refuses anything else.
  it('maxMessageBytes / maxBatchBytes: integers within 1024..1048576, batch >= message; exact messages', () => {
    const range = (name: string) => `${name} must be an integer between 1024 and 1048576 bytes (SQS limit)`;
    expect(SQS_MAX_MESSAGE_BYTES_LIMIT).toBe(1_048_576);
    expect(() => new SqsQuarantineSink({ queueUrl: QUEUE, maxMessageBytes: 1023 })).toThrow(new RangeError(range('maxMessageBytes')));
    expect(new SqsQuarantineSink({ queueUrl: QUEUE, maxMessageBytes: 1024 }).maxBatchBytes).toBe(1024);
    expect(new SqsQuarantineSink({ queueUrl: QUEUE, maxMessageBytes: 1_048_576 }).maxMessageBytes).toBe(1_048_576);
    expect(() => new SqsQuarantineSink({ queueUrl: QUEUE, maxMessageBytes: 1_048_577 })).toThrow(new RangeError(range('maxMessageBytes')));
    expect(() => new SqsQuarantineSink({ queueUrl: QUEUE, maxMessageBytes: 2048.5 })).toThrow(new RangeError(range('maxMessageBytes')));
    expect(() => new SqsQuarantineSink({ queueUrl: QUEUE, maxMessageBytes: 1024, maxBatchBytes: 1_048_577 })).toThrow(
      new RangeError(range('maxBatchBytes')),
    );
    expect(() => new SqsQuarantineSink({ queueUrl: QUEUE, maxMessageBytes: 4096, maxBatchBytes: 4095 })).toThrow(
      new RangeError('maxBatchBytes must be >= maxMessageBytes'),
    );
    expect(new SqsQuarantineSink({ queueUrl: QUEUE, maxMessageBytes: 4096, maxBatchBytes: 4096 }).maxBatchBytes).toBe(4096);
  });

  it('a body of exactly maxMessageBytes is sent whole; one byte more is sent by reference (payload dropped)', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: client(), maxMessageBytes: 1024 });
    const fits = recordOfSize(0, 1024);
    const over = recordOfSize(1, 1025);
    await sink.write([fits]);
    await sink.write([over]);
    expect(calls().map((c) => c.Entries![0]!.MessageBody)).toEqual([serializeQuarantineRecord(fits), referenceBody(over)]);
    expect(bytesOf(referenceBody(over))).toBeLessThan(1024);
  });

  it('a reference of exactly maxMessageBytes keeps its issues; one byte more drops them for their count', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: client(), maxMessageBytes: 2048 });
    /** A schema failure whose by-reference body (payload 3000 bytes dropped) is exactly `bytes` long. */
    const withIssues = (i: number, bytes: number): QuarantineRecord => {
      const build = (pad: number): QuarantineRecord => {
        const base = record(i, 3000);
        return { ...base, error: { kind: 'schema', message: 'invalid', issues: [{ path: 'data.note', message: 'x'.repeat(pad) }] } };
      };
      const r = build(bytes - bytesOf(referenceBody(build(0))));
      expect(bytesOf(referenceBody(r))).toBe(bytes);
      return r;
    };
    const fits = withIssues(0, 2048);
    const over = withIssues(1, 2049);
    await sink.write([fits]);
    await sink.write([over]);
    const [first, second] = calls().map((c) => c.Entries![0]!.MessageBody!);
    expect(first).toBe(referenceBody(fits));
    expect(second).toBe(
      serializeQuarantineRecord({
        ...withoutPayload(over),
        error: { kind: 'schema', message: 'invalid [1 validation issues omitted: message too large]' },
      }),
    );
  });

  it('a reference still too large: the message is cut at 2000 characters and the issues counted (none: 0)', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: client(), maxMessageBytes: 4096 });
    const long = `${'a'.repeat(1999)}b${'c'.repeat(3000)}`;
    const issues = [1, 2, 3].map((n) => ({ path: `data.lines.${n}`, message: 'must be positive' }));
    const counted: QuarantineRecord = { ...record(0, 10), error: { kind: 'schema', message: long, issues } };
    const uncounted: QuarantineRecord = { ...record(1, 10), error: { kind: 'invalid-json', message: long } };
    await sink.write([counted, uncounted]);
    const bodies = calls().flatMap((c) => c.Entries!.map((e) => JSON.parse(e.MessageBody!) as QuarantineRecord));
    expect(bodies.map((b) => b.error)).toStrictEqual([
      { kind: 'schema', message: `${'a'.repeat(1999)}b [3 validation issues omitted: message too large]` },
      { kind: 'invalid-json', message: `${'a'.repeat(1999)}b [0 validation issues omitted: message too large]` },
    ]);
    expect(bodies.map((b) => b.record.dataOmitted)).toEqual(['too-large', 'too-large']);
    expect(bodies.map((b) => 'data' in b.record)).toEqual([false, false]);
  });

  // SQS refuses a body over the queue's maximum message size on every delivery: the headline is cut in
  // bytes, not only at 2000 characters, and never through a surrogate pair.
  it('a reference still too large for a small limit: the multi-byte headline is cut to the longest that fits', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: client(), maxMessageBytes: 1024 });
    const issues = [{ path: 'data.note', message: 'x'.repeat(2000) }];
    const euro: QuarantineRecord = { ...record(0, 10), error: { kind: 'schema', message: '€'.repeat(3000), issues } };
    const emoji: QuarantineRecord = { ...record(1, 10), error: { kind: 'schema', message: '😀'.repeat(1500), issues } };
    await sink.write([euro, emoji]);
    const bodies = calls().flatMap((c) => c.Entries!.map((e) => e.MessageBody!));
    expect(bodies).toHaveLength(2);
    const suffix = ' [1 validation issues omitted: message too large]';
    const bodyWithHeadline = (r: QuarantineRecord, h: string) =>
      serializeQuarantineRecord({ ...withoutPayload(r), error: { kind: 'schema', message: `${h}${suffix}` } });
    for (const [r, unit, body] of [
      [euro, '€', bodies[0]!],
      [emoji, '😀', bodies[1]!],
    ] as const) {
      expect(bytesOf(body)).toBeLessThanOrEqual(1024);
      const message = (JSON.parse(body) as QuarantineRecord).error.message;
      expect(message.endsWith(suffix)).toBe(true);
      const head = message.slice(0, -suffix.length);
      const count = [...head].length;
      expect(head).toBe(unit.repeat(count));
      expect(count).toBeGreaterThan(50);
      // The longest that fits: one more character would not.
      expect(bodyWithHeadline(r, head)).toBe(body);
      expect(bytesOf(bodyWithHeadline(r, unit.repeat(count + 1)))).toBeGreaterThan(1024);
    }
  });

  // SendMessageBatch: at most 10 entries per call.
  it('10 records go in one batch, 11 in two', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: client() });
    await sink.write(Array.from({ length: 10 }, (_, i) => record(i)));
    expect(calls().map((c) => c.Entries!.length)).toEqual([10]);
    sqs.resetHistory();
    await sink.write(Array.from({ length: 11 }, (_, i) => record(i)));
    expect(calls().map((c) => c.Entries!.length)).toEqual([10, 1]);
  });

  // The sum of a batch's bodies must not exceed maxBatchBytes (SQS: the batch total has the message limit).
  it('bodies summing to exactly maxBatchBytes share a batch; one byte over splits it', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: client(), maxMessageBytes: 1024, maxBatchBytes: 3000 });
    await sink.write([recordOfSize(0, 1000), recordOfSize(1, 1000), recordOfSize(2, 1000)]);
    expect(batchIds()).toEqual([['0', '1', '2']]);
    sqs.resetHistory();
    await sink.write([recordOfSize(0, 1000), recordOfSize(1, 1000), recordOfSize(2, 1001)]);
    expect(batchIds()).toEqual([['0', '1'], ['2']]);
  });

  it('write([]) resolves [] without a call, without creating the client (it is made on the first record)', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE });
    expect(await sink.write([])).toEqual([]);
    expect(calls()).toEqual([]);
    expect((sink as unknown as { client: SQSClient | undefined }).client).toBeUndefined();
  });

  it('rejects only when every record failed; a partial failure resolves with the failed indexes', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Failed: input.Entries!.filter((e) => e.Id !== 'ok').map((e) => ({ Id: e.Id, SenderFault: true, Code: 'InvalidMessageContents' })),
    }));
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: client() });
    await expect(sink.write([record(0), record(1)])).rejects.toThrow(new Error(`SQS quarantine: no record could be written to ${QUEUE}`));
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({ Failed: [{ Id: '1', SenderFault: true, Code: 'InvalidMessageContents' }] });
    expect(await sink.write([record(0), record(1)])).toEqual([1]);
  });

  it('an entry failing without sender fault is sent exactly twice; failing again, it is reported', async () => {
    const internal = { Failed: [{ Id: '0', SenderFault: false, Code: 'InternalError' }] };
    // Scheduled: the first three calls fail entry "0", every later call succeeds.
    sqs.on(SendMessageBatchCommand).resolvesOnce(internal).resolvesOnce(internal).resolvesOnce(internal).resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: client() });
    expect(await sink.write([record(0), record(1)])).toEqual([0]);
    expect(batchIds()).toEqual([['0', '1'], ['0']]);
  });

  it('a failure with an Id the sink did not send (or an empty one) is ignored', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: '7', SenderFault: false, Code: 'InternalError' }, { Id: '', SenderFault: true, Code: 'InternalError' }] })
      .resolves({});
    const sink = new SqsQuarantineSink({ queueUrl: QUEUE, client: client() });
    expect(await sink.write([record(0), record(1)])).toEqual([]);
    expect(batchIds()).toEqual([['0', '1']]);
  });

  it('a standard queue (no ".fifo" suffix) gets neither MessageGroupId nor MessageDeduplicationId', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    for (const queueUrl of [QUEUE, `${QUEUE}-fifo`]) {
      sqs.resetHistory();
      await new SqsQuarantineSink({ queueUrl, client: client() }).write([record(0)]);
      expect(calls()[0]!.Entries).toStrictEqual([{ Id: '0', MessageBody: serializeQuarantineRecord(record(0)) }]);
    }
  });

  // SendMessageBatchRequestEntry.MessageDeduplicationId: at most 128 characters.
  it('FIFO: the deduplication id `<sequence>-<sub-sequence>` is cut to 128 characters', async () => {
    sqs.on(SendMessageBatchCommand).resolves({});
    const at = (sequenceNumber: string): QuarantineRecord => {
      const base = record(0);
      return { ...base, record: { ...base.record, sequenceNumber, subSequenceNumber: 7 } };
    };
    await new SqsQuarantineSink({ queueUrl: `${QUEUE}.fifo`, client: client() }).write([at('9'.repeat(126)), at('8'.repeat(127))]);
    expect(calls()[0]!.Entries!.map((e) => [e.MessageGroupId, e.MessageDeduplicationId])).toEqual([
      ['shardId-000000000000', `${'9'.repeat(126)}-7`],
      ['shardId-000000000000', `${'8'.repeat(127)}-`],
    ]);
  });
});
