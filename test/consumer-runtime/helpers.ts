/** Builders for Lambda Kinesis events and contexts, and a log capture, for the consumer-runtime tests. */
import { Writable } from 'node:stream';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { InMemoryQuarantineSink, createKinesisHandler, type KinesisHandlerOptions, type QuarantineRecord } from '../../consumers/runtime/index';
import { registry, type OrderEvent } from '../../schemas/index';

export const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders';
export const SHARD_ID = 'shardId-000000000003';
const BASE_SEQUENCE = 49590338271490256608559692538361571095921575989136588898n;
const BASE_ARRIVAL = 1_767_225_600; // 2026-01-01T00:00:00Z in Unix seconds

/** The i-th sequence number of the test shard (realistic 56-digit numbers, increasing). */
export function seq(i: number): string {
  return (BASE_SEQUENCE + BigInt(i) * 1000n).toString();
}

export interface RecordInput {
  /** An object is JSON-encoded, a string used as the raw base64 `data`, bytes base64-encoded. */
  readonly payload: unknown;
  readonly partitionKey?: string;
  readonly rawBase64?: boolean;
}

export function b64(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64');
}

export function kinesisRecord(index: number, data: string, partitionKey = `pk-${index}`): KinesisStreamRecord {
  const sequenceNumber = seq(index);
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data,
      approximateArrivalTimestamp: BASE_ARRIVAL + index / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${SHARD_ID}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/consumer',
    awsRegion: 'eu-west-1',
    eventSourceARN: STREAM_ARN,
  };
}

/** A Kinesis event whose i-th record carries `payloads[i]` (objects JSON-encoded) with key `keys[i]`. */
export function kinesisEvent(payloads: readonly unknown[], keys?: readonly string[]): KinesisStreamEvent {
  return { Records: payloads.map((p, i) => kinesisRecord(i, b64(p), keys?.[i] ?? `pk-${i}`)) };
}

export function lambdaContext(overrides: Partial<Context> = {}): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'orders-test-consumer',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-test-consumer',
    memoryLimitInMB: '256',
    awsRequestId: 'req-0001',
    logGroupName: '/aws/lambda/orders-test-consumer',
    logStreamName: '2026/01/01/[$LATEST]abc',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}

/** A pino destination that keeps every JSON line. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }
  find(msg: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l['msg'] === msg);
  }
}

/** Collects EMF lines. */
export class EmfCapture {
  readonly docs: Record<string, unknown>[] = [];
  readonly writer = (line: string): void => {
    this.docs.push(JSON.parse(line) as Record<string, unknown>);
  };
}

/** Resolve after pino flushed (it writes synchronously to our Writable, but be safe). */
export async function tick(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * An order-contract handler on the runtime with everything observable: quarantine in memory, log lines
 * and EMF documents captured. `overrides` replace any option (handlers, stores, margins...).
 */
export function setupOrderHandler(overrides: Partial<KinesisHandlerOptions<OrderEvent>> = {}) {
  const quarantine = new InMemoryQuarantineSink();
  const logs = new LogCapture();
  const emf = new EmfCapture();
  const handler = createKinesisHandler<OrderEvent>({
    consumerName: 'test-consumer',
    registry,
    quarantine,
    logDestination: logs,
    metrics: { writer: emf.writer },
    handlers: {},
    ...overrides,
  });
  return { handler, quarantine, logs, emf };
}

/** The quarantine record of Kinesis record `i` (shard 0, key `k<i>`) failed as invalid JSON, with `data` as its payload. */
export function quarantineRecord(
  i: number,
  { consumer = 'c', message = 'data is not valid JSON', data = Buffer.from('not json') }: { consumer?: string; message?: string; data?: Buffer } = {},
): QuarantineRecord {
  return {
    format: 'kinesis-pipeline.quarantine.v1',
    consumer,
    quarantinedAt: '2026-01-01T00:00:00.000Z',
    error: { kind: 'invalid-json', message },
    record: {
      streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders',
      shardId: 'shardId-000000000000',
      sequenceNumber: seq(i),
      eventId: `shardId-000000000000:${seq(i)}`,
      partitionKey: `k${i}`,
      approximateArrivalTimestamp: 1_767_225_600,
      arrivalTime: '2026-01-01T00:00:00.000Z',
      aggregated: false,
      data: data.toString('base64'),
      dataBytes: data.length,
    },
  };
}
