/**
 * Smoke test on kinesis-local (kinesis-mock, LocalStack's engine): the same mapping, a partial batch
 * response and a discarded batch, against the other emulator the local runner supports.
 */
import { DescribeStreamSummaryCommand, PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient, ensureStream } from '../../kinesis/client';
import { LocalEventSourceMapping, type EsmActivity } from '../../local/esm';
import { createLogger } from '../../telemetry/logger';
import { startKinesisLocal, type EmbeddedKinesis } from '../support/emulators';
import { FAST_TIMING, FUNCTION_ARN, MemorySink, ok, settings, thrown, waitFor } from './harness';

let engine: EmbeddedKinesis;
let client: KinesisClient;

beforeAll(async () => {
  engine = await startKinesisLocal();
  client = createKinesisClient({ endpoint: engine.endpoint, region: 'us-east-1' });
});
afterAll(async () => {
  client?.destroy();
  await engine?.stop();
});

describe('on kinesis-local', () => {
  it('partial batch response, retry exhaustion and on-failure record behave as on kinesalite', async () => {
    await ensureStream(client, { name: 'smoke', shardCount: 1 });
    const arn = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'smoke' }))).StreamDescriptionSummary!.StreamARN!;
    const puts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const out = await client.send(new PutRecordCommand({ StreamName: 'smoke', PartitionKey: `k${i}`, Data: Buffer.from(JSON.stringify({ i })) }));
      puts.push(out.SequenceNumber!);
    }
    const calls: string[][] = [];
    const activity: EsmActivity[] = [];
    const sink = new MemorySink();
    const mapping = new LocalEventSourceMapping({
      kinesis: client,
      consumerName: 'smoke',
      functionArn: FUNCTION_ARN,
      streamName: 'smoke',
      streamArn: arn,
      region: 'us-east-1',
      settings: settings({ batchSize: 10, reportBatchItemFailures: true, maximumRetryAttempts: 1, onFailureDestination: 'queue' }),
      invoke: async (event) => {
        const sequenceNumbers = (event as { Records: Array<{ kinesis: { sequenceNumber: string } }> }).Records.map((r) => r.kinesis.sequenceNumber);
        calls.push(sequenceNumbers);
        if (sequenceNumbers[0] === puts[0]) return ok({ batchItemFailures: [{ itemIdentifier: puts[2] }] });
        return thrown();
      },
      onFailure: sink,
      logger: createLogger({ name: 'esm-test', level: 'silent' }),
      timing: FAST_TIMING,
      onActivity: (a) => activity.push(a),
    });
    await mapping.start();
    try {
      await waitFor(() => sink.records.length === 1, 'on-failure record', 30_000);
      // The partial response consumed the only retry (MaximumRetryAttempts 1): 2 invocations in all.
      expect(calls).toEqual([puts, puts.slice(2)]);
      expect(sink.records[0]!.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 });
      expect(sink.records[0]!.KinesisBatchInfo).toMatchObject({ startSequenceNumber: puts[2], endSequenceNumber: puts[3], batchSize: 2, streamArn: arn });
      expect(activity.flatMap((a) => (a.type === 'checkpoint' ? [a.sequenceNumber] : []))).toEqual([puts[1], puts[3]]);
    } finally {
      await mapping.stop();
    }
  });
});
