/** Kinesis-shaped Lambda events built from fixtures, byte for byte the shape Lambda sends ("Lambda with Kinesis"). */
import type { Context, KinesisStreamEvent, KinesisStreamRecord, KinesisStreamTumblingWindowEvent } from 'aws-lambda';

export const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders-test-orders';
export const SHARD_ID = 'shardId-000000000000';

let sequence = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;

export function kinesisRecord(payload: unknown, partitionKey: string, arrivalMs = Date.parse('2026-03-02T10:00:10Z')): KinesisStreamRecord {
  sequence += 1n;
  const sequenceNumber = sequence.toString();
  const data = typeof payload === 'string' ? Buffer.from(payload).toString('base64') : Buffer.from(JSON.stringify(payload)).toString('base64');
  return {
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey, sequenceNumber, data, approximateArrivalTimestamp: arrivalMs / 1000 },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${SHARD_ID}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/orders-test-consumer',
    awsRegion: 'eu-west-1',
    eventSourceARN: STREAM_ARN,
  };
}

export function kinesisEvent(events: readonly { data: { orderId: string } }[]): KinesisStreamEvent {
  return { Records: events.map((e) => kinesisRecord(e, e.data.orderId)) };
}

export function windowEvent(
  records: KinesisStreamRecord[],
  options: { window: { start: string; end: string }; state?: Record<string, unknown>; final?: boolean; terminatedEarly?: boolean },
): KinesisStreamTumblingWindowEvent & { shardId: string; eventSourceARN: string } {
  return {
    Records: records,
    window: options.window,
    state: options.state ?? {},
    shardId: SHARD_ID,
    eventSourceARN: STREAM_ARN,
    isFinalInvokeForWindow: options.final ?? false,
    isWindowTerminatedEarly: options.terminatedEarly ?? false,
  };
}

export function lambdaContext(functionName: string, remainingMs = 60_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
