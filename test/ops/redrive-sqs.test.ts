/**
 * Redrive from the stage's on-failure SQS queue (AWS mode): SQS and Lambda mocked with
 * aws-sdk-client-mock (exact commands and inputs), Kinesis reads against real kinesalite.
 */
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAllShards } from '../../kinesis/client';
import { ShardRangeReader } from '../../ops/aws/shard-range-reader';
import { runCli } from '../../ops/cli';
import { createFixtures } from '../../schemas/fixtures';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';
import { captureIo, createStream, json, onFailureRecord, putRecords, type StreamHandle, type Written } from './helpers';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/orders-dev-order-review-on-failure';
const ROLE = 'arn:aws:iam::123456789012:role/orders-dev-order-review';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

let kinesis: EmbeddedKinesis;
let stream: StreamHandle;
let written: Written[];
const sqs = new SQSClient({ region: 'us-east-1', credentials });
const lambda = new LambdaClient({ region: 'us-east-1', credentials });
const sqsMock = mockClient(sqs);
const lambdaMock = mockClient(lambda);

beforeAll(async () => {
  kinesis = await startKinesalite();
  // The stage's stream name: <pipeline>-<stage>-<stream>.
  stream = await createStream(kinesis.endpoint, 'orders-dev-orders', 1);
  // order.placed events: order-review's mapping filter (data.type = order.placed) lets them through.
  const fixtures = createFixtures({ seed: 4 });
  written = await putRecords(stream, Array.from({ length: 6 }, () => fixtures.orderPlaced()).map((e) => ({ partitionKey: e.data.orderId, data: json(e) })));
});
afterAll(async () => {
  await kinesis.stop();
});
beforeEach(() => {
  sqsMock.reset();
  lambdaMock.reset();
  sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: QUEUE_URL });
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Role: ROLE });
});

const body = (from: number, to: number) =>
  JSON.stringify(onFailureRecord(stream.arn, written[from]!.shardId, written[from]!.sequenceNumber, written[to]!.sequenceNumber, to - from + 1));

const args = ['redrive', 'order-review', '--stage', 'dev', '--region', 'us-east-1'];

describe('ops redrive from the on-failure queue', () => {
  it('deletes a message only after its records succeeded; a failed one is made visible again', async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'm-ok', ReceiptHandle: 'rh-ok', Body: body(0, 2) },
          { MessageId: 'm-bad', ReceiptHandle: 'rh-bad', Body: body(3, 5) },
        ],
      })
      .resolves({ Messages: [] });
    lambdaMock
      .on(InvokeCommand)
      .callsFake((input: { Payload: Uint8Array }) => {
        const event = JSON.parse(new TextDecoder().decode(input.Payload));
        const failing = event.Records[0].kinesis.sequenceNumber === written[3]!.sequenceNumber;
        return failing
          ? { StatusCode: 200, FunctionError: 'Unhandled', Payload: json({ errorType: 'Error', errorMessage: 'boom' }) as InvokeCommandOutput['Payload'] }
          : { StatusCode: 200, Payload: json({ batchItemFailures: [] }) as InvokeCommandOutput['Payload'] };
      });

    const { io, out } = captureIo();
    const code = await runCli([...args, '--endpoint', kinesis.endpoint, '--max-attempts', '1'], { io, clients: { sqs, lambda } });

    expect(code).toBe(1);
    expect(sqsMock.commandCalls(GetQueueUrlCommand).map((c) => c.args[0].input)).toEqual([{ QueueName: 'orders-dev-order-review-on-failure' }]);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[0]!.args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 300,
    });
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-ok' }]);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, Entries: [{ Id: '0', ReceiptHandle: 'rh-bad', VisibilityTimeout: 0 }] },
    ]);
    expect(lambdaMock.commandCalls(GetFunctionConfigurationCommand).map((c) => c.args[0].input)).toEqual([{ FunctionName: 'orders-dev-order-review' }]);
    const invokes = lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(invokes.map((i) => [i.FunctionName, i.InvocationType])).toEqual([
      ['orders-dev-order-review', 'RequestResponse'],
      ['orders-dev-order-review', 'RequestResponse'],
    ]);
    const first = JSON.parse(new TextDecoder().decode(invokes[0]!.Payload as Uint8Array));
    expect(first.Records.map((r: { kinesis: { sequenceNumber: string } }) => r.kinesis.sequenceNumber)).toEqual(written.slice(0, 3).map((w) => w.sequenceNumber));
    expect(first.Records[0].invokeIdentityArn).toBe(ROLE);
    expect(first.Records[0].eventSourceARN).toBe(stream.arn);
    expect(out.find((l) => l.includes('m-bad'))).toContain('boom');
  });

  it('--dry-run receives, reports, deletes nothing and releases every message', async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'rh1', Body: body(1, 4) }] })
      .resolves({ Messages: [] });
    const { io, out } = captureIo();
    const code = await runCli([...args, '--endpoint', kinesis.endpoint, '--dry-run'], { io, clients: { sqs, lambda } });
    expect(code).toBe(0);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, Entries: [{ Id: '0', ReceiptHandle: 'rh1', VisibilityTimeout: 0 }] },
    ]);
    expect(out.find((l) => l.startsWith('DRY-RUN'))).toContain('would invoke orders-dev-order-review with 4 record(s)');
  });

  it('--queue-url and --max-messages bound what is received', async () => {
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'rh1', Body: body(0, 0) }] });
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: json({}) as InvokeCommandOutput['Payload'] });
    const { io } = captureIo();
    const code = await runCli([...args, '--endpoint', kinesis.endpoint, '--queue-url', 'https://q/other', '--max-messages', '1'], { io, clients: { sqs, lambda } });
    expect(code).toBe(0);
    expect(sqsMock.commandCalls(GetQueueUrlCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.MaxNumberOfMessages)).toEqual([1]);
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: 'https://q/other', ReceiptHandle: 'rh1' }]);
  });
});

describe('ops redrive --quarantine from the quarantine queue', () => {
  it('re-puts what is valid now and deletes only those messages', async () => {
    const quarantineUrl = QUEUE_URL.replace('on-failure', 'quarantine');
    sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: quarantineUrl });
    const fixtures = createFixtures({ seed: 5 });
    const good = fixtures.orderShipped();
    const bad = { ...fixtures.orderShipped(), version: 9 };
    const message = (event: { id: string; data: { orderId: string } }, seq: string) =>
      JSON.stringify({
        format: 'kinesis-pipeline.quarantine.v1',
        consumer: 'order-review',
        quarantinedAt: '2026-11-25T16:00:00.000Z',
        error: { kind: 'unknown-version', message: 'unknown version' },
        event: { id: event.id },
        record: {
          streamArn: stream.arn,
          shardId: 'shardId-000000000000',
          sequenceNumber: seq,
          eventId: `shardId-000000000000:${seq}`,
          partitionKey: event.data.orderId,
          approximateArrivalTimestamp: 1764086400,
          arrivalTime: '2026-11-25T16:00:00.000Z',
          aggregated: false,
          data: Buffer.from(JSON.stringify(event)).toString('base64'),
          dataBytes: JSON.stringify(event).length,
        },
      });
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ MessageId: 'q1', ReceiptHandle: 'rh-q1', Body: message(good, '1') }, { MessageId: 'q2', ReceiptHandle: 'rh-q2', Body: message(bad, '2') }] })
      .resolves({ Messages: [] });

    const { io, out } = captureIo();
    const code = await runCli([...args, '--endpoint', kinesis.endpoint, '--quarantine'], { io, clients: { sqs, lambda } });

    expect(code).toBe(1);
    expect(sqsMock.commandCalls(GetQueueUrlCommand).map((c) => c.args[0].input)).toEqual([{ QueueName: 'orders-dev-order-review-quarantine' }]);
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: quarantineUrl, ReceiptHandle: 'rh-q1' }]);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: quarantineUrl, Entries: [{ Id: '0', ReceiptHandle: 'rh-q2', VisibilityTimeout: 0 }] },
    ]);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    const shard = (await listAllShards(stream.client, stream.name))[0]!;
    const read = await new ShardRangeReader(stream.client, { minIntervalMs: 0, maxIdlePolls: 1 }).read({
      streamName: stream.name,
      shardId: shard.ShardId!,
      startSequenceNumber: written[5]!.sequenceNumber,
      endSequenceNumber: '9'.repeat(128),
    });
    expect(read.records.slice(1).map((r) => [r.PartitionKey, JSON.parse(Buffer.from(r.Data!).toString()).id])).toEqual([[good.data.orderId, good.id]]);
    expect(out.find((l) => l.startsWith('STILL-INVALID'))).toContain('unknown version 9 of event type "order.shipped"');
  });
});
