/** Shared helpers of the ops tests: captured IO, a stream on kinesalite, on-failure records. */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStreamSummaryCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createKinesisClient, ensureStream } from '../../kinesis/client';
import type { OpsIo } from '../../ops/io';

export interface CapturedIo {
  io: OpsIo;
  out: string[];
  err: string[];
}

export function captureIo(options: { interactive?: boolean; answer?: boolean } = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  const questions: string[] = [];
  return {
    out,
    err,
    io: {
      out: (line) => out.push(...line.split('\n')),
      err: (line) => err.push(...line.split('\n')),
      interactive: options.interactive ?? false,
      async confirm(question) {
        questions.push(question);
        return options.answer ?? false;
      },
    },
  };
}

export interface StreamHandle {
  client: KinesisClient;
  name: string;
  arn: string;
}

export async function createStream(endpoint: string, name: string, shardCount = 1): Promise<StreamHandle> {
  const client = createKinesisClient({ endpoint, region: 'us-east-1' });
  await ensureStream(client, { name, shardCount });
  const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  return { client, name, arn: out.StreamDescriptionSummary!.StreamARN! };
}

export interface Written {
  partitionKey: string;
  data: Uint8Array;
  shardId: string;
  sequenceNumber: string;
}

/** PutRecords in one call (order kept within a shard), returning where each record went. */
export async function putRecords(stream: StreamHandle, records: readonly { partitionKey: string; data: Uint8Array; explicitHashKey?: string }[]): Promise<Written[]> {
  const out = await stream.client.send(
    new PutRecordsCommand({
      StreamName: stream.name,
      Records: records.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data, ...(r.explicitHashKey ? { ExplicitHashKey: r.explicitHashKey } : {}) })),
    }),
  );
  if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} records failed`);
  return out.Records!.map((entry, i) => ({ ...records[i]!, shardId: entry.ShardId!, sequenceNumber: entry.SequenceNumber! }));
}

export const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** An on-failure record in the shape Lambda sends (reference: aws-kinesis-lambda.md). */
export function onFailureRecord(streamArn: string, shardId: string, start: string, end: string, batchSize: number, functionArn = 'arn:aws:lambda:us-east-1:000000000000:function:orders-dev-order-review') {
  return {
    requestContext: { requestId: 'c9b8fa9f-5a7f-4e5a-9f3e-000000000001', functionArn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 6 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-11-25T16:00:00.000Z',
    KinesisBatchInfo: {
      shardId,
      startSequenceNumber: start,
      endSequenceNumber: end,
      approximateArrivalOfFirstRecord: '2026-11-25T15:59:00.000Z',
      approximateArrivalOfLastRecord: '2026-11-25T15:59:01.000Z',
      batchSize,
      streamArn,
    },
  };
}

/** A local data folder with runner.json pointing at `kinesisEndpoint`. */
export async function localDataDir(kinesisEndpoint: string, streams: Record<string, string>, consumers: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ops-data-'));
  await mkdir(join(dir, 'on-failure'), { recursive: true });
  await mkdir(join(dir, 'quarantine'), { recursive: true });
  await writeFile(
    join(dir, 'runner.json'),
    JSON.stringify({
      pid: process.pid,
      startedAt: new Date().toISOString(),
      kinesisEndpoint,
      lambdaEndpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      streams: Object.fromEntries(Object.entries(streams).map(([k, arn]) => [k, { arn }])),
      consumers,
    }),
  );
  return dir;
}
