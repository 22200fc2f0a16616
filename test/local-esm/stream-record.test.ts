/**
 * toStreamRecord / defaultInvokeIdentityArn (local/esm/stream-record.ts): a Kinesis record becomes the
 * record Lambda sends (page "Using AWS Lambda with Amazon Kinesis", example event: kinesisSchemaVersion
 * "1.0", base64 data, approximateArrivalTimestamp in seconds with a millisecond fraction, eventID
 * "<shardId>:<sequenceNumber>", eventSource "aws:kinesis", eventName "aws:kinesis:record").
 */
import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { defaultInvokeIdentityArn, toStreamRecord } from '../../local/esm/stream-record';

const CONTEXT = {
  shardId: 'shardId-000000000006',
  invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
  awsRegion: 'us-east-2',
  eventSourceARN: 'arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream',
};
const SEQ = '49590338271490256608559692538361571095921575989136588898';

describe('toStreamRecord', () => {
  it('builds the record of the AWS example event', () => {
    const data = Buffer.from('Hello, this is a test.');
    const record = toStreamRecord(
      { SequenceNumber: SEQ, PartitionKey: '1', Data: data, ApproximateArrivalTimestamp: new Date(1545084650987) },
      CONTEXT,
    );
    const event = {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: '1',
        sequenceNumber: SEQ,
        data: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
        approximateArrivalTimestamp: 1545084650.987,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000006:${SEQ}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-role',
      awsRegion: 'us-east-2',
      eventSourceARN: 'arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream',
    };
    expect(record.event).toEqual(event);
    expect(record.shardId).toBe('shardId-000000000006');
    expect(record.sequenceNumber).toBe(SEQ);
    expect(record.partitionKey).toBe('1');
    expect(record.arrivalMs).toBe(1545084650987);
    expect(Buffer.from(record.data).toString()).toBe('Hello, this is a test.');
    expect(record.size).toBe(JSON.stringify(event).length); // all ASCII here
  });

  it('size counts UTF-8 bytes of the serialized event, not characters', () => {
    const key = 'ключ-✓';
    const record = toStreamRecord({ SequenceNumber: '1', PartitionKey: key, Data: Buffer.from('x'), ApproximateArrivalTimestamp: new Date(0) }, CONTEXT);
    const json = JSON.stringify(record.event);
    expect(json).toContain(key);
    expect(record.size).toBe(Buffer.byteLength(json, 'utf8'));
    expect(record.size).toBeGreaterThan(json.length);
  });

  it('encodes only the bytes of a data view, not the whole buffer behind it', () => {
    const backing = Buffer.from('XXXXpayloadYYYY');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 7);
    const record = toStreamRecord({ SequenceNumber: '5', PartitionKey: 'k', Data: view, ApproximateArrivalTimestamp: new Date(1000) }, CONTEXT);
    expect(record.event.kinesis.data).toBe(Buffer.from('payload').toString('base64'));
    expect(record.data).toBe(view);
    expect(record.event.kinesis.approximateArrivalTimestamp).toBe(1);
  });

  it('a record with missing fields gets empty values, never undefined (no crash)', () => {
    // The SDK types SequenceNumber and Data as required; the conversion still guards against a record without them.
    const record = toStreamRecord({} as Partial<KinesisRecord> as KinesisRecord, CONTEXT);
    expect(record.sequenceNumber).toBe('');
    expect(record.partitionKey).toBe('');
    expect(record.arrivalMs).toBe(0);
    expect(record.data).toBeInstanceOf(Uint8Array);
    expect(record.data.byteLength).toBe(0);
    expect(record.event.kinesis).toEqual({ kinesisSchemaVersion: '1.0', partitionKey: '', sequenceNumber: '', data: '', approximateArrivalTimestamp: 0 });
    expect(record.event.eventID).toBe('shardId-000000000006:');
  });
});

describe('defaultInvokeIdentityArn', () => {
  it('the role of the account of the function, named after the consumer', () => {
    expect(defaultInvokeIdentityArn('arn:aws:lambda:eu-west-1:210987654321:function:order-metrics', 'order-metrics')).toBe(
      'arn:aws:iam::210987654321:role/order-metrics',
    );
  });

  it.each([
    ['an ARN without account', 'arn:aws:lambda:us-east-1::function:x'],
    ['not an ARN', 'order-metrics'],
  ])('%s: the local default account 000000000000', (_name, functionArn) => {
    expect(defaultInvokeIdentityArn(functionArn, 'c')).toBe('arn:aws:iam::000000000000:role/c');
  });
});
