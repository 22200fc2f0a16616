/**
 * A Kinesis record as the mapping carries it: converted once, when read, into the exact record
 * shape Lambda sends (page "Using AWS Lambda with Amazon Kinesis", example Kinesis record event),
 * with its serialized size kept for the 6 MB payload cap.
 */
import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import type { KinesisEventRecord } from './types';

export interface StreamRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** ApproximateArrivalTimestamp in ms since the epoch. */
  readonly arrivalMs: number;
  readonly event: KinesisEventRecord;
  /** Bytes of `JSON.stringify(event)` (UTF-8). */
  readonly size: number;
  /** The raw data bytes (filters parse them as JSON). */
  readonly data: Uint8Array;
}

export interface EventRecordContext {
  shardId: string;
  invokeIdentityArn: string;
  awsRegion: string;
  eventSourceARN: string;
}

export function toStreamRecord(record: KinesisRecord, context: EventRecordContext): StreamRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  const partitionKey = record.PartitionKey ?? '';
  const data = record.Data ?? new Uint8Array();
  const arrivalMs = record.ApproximateArrivalTimestamp?.getTime() ?? 0;
  const event: KinesisEventRecord = {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
      // Seconds with millisecond fraction, e.g. 1545084650.987.
      approximateArrivalTimestamp: arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${context.shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: context.invokeIdentityArn,
    awsRegion: context.awsRegion,
    eventSourceARN: context.eventSourceARN,
  };
  return {
    shardId: context.shardId,
    sequenceNumber,
    partitionKey,
    arrivalMs,
    event,
    size: Buffer.byteLength(JSON.stringify(event)),
    data,
  };
}

/** `arn:aws:iam::<account of the function>:role/<name>`, the execution role Lambda reports. */
export function defaultInvokeIdentityArn(functionArn: string, consumerName: string): string {
  const account = functionArn.split(':')[4] || '000000000000';
  return `arn:aws:iam::${account}:role/${consumerName}`;
}
