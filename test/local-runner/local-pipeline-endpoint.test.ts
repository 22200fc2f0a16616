/**
 * `--endpoint`: the runner on a Kinesis someone else started (here a kinesalite standing in for a
 * LocalStack): it creates missing streams, leaves the engine running when it stops, and reports
 * records that were in the stream before the run as foreign instead of mixing them into the accounting.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListStreamsCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient, ensureStream } from '../../kinesis/client';
import { definePipeline } from '../../pipeline/define-pipeline';
import { startLocalPipeline, type RunSummary } from '../../local/pipeline-runner';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';

const EVENTS = 30;
const definition = definePipeline({
  name: 'ext',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 1 } }, audit: { capacity: { mode: 'PROVISIONED', shardCount: 1 } } },
  consumers: {
    all: {
      entry: 'test/local-runner/fixtures/effects-consumer.ts',
      stream: 'orders',
      mapping: { startingPosition: 'TRIM_HORIZON', reportBatchItemFailures: true },
    },
  },
});

let external: EmbeddedKinesis;
let dataRoot: string;
let summary: RunSummary;
let kinesisEndpoint: string;

beforeAll(async () => {
  external = await startKinesalite();
  dataRoot = await mkdtemp(join(tmpdir(), 'local-pipeline-ext-'));
  const client = createKinesisClient({ endpoint: external.endpoint });
  await ensureStream(client, { name: 'orders', shardCount: 1 });
  await client.send(new PutRecordCommand({ StreamName: 'orders', PartitionKey: 'before', Data: Buffer.from('{"written":"before the run"}') }));
  client.destroy();
  const pipeline = await startLocalPipeline({ definition, dataDir: dataRoot, endpoint: external.endpoint, rate: 300, events: EVENTS, invalidFraction: 0, seed: 11 });
  kinesisEndpoint = pipeline.kinesisEndpoint;
  await pipeline.waitUntilAccounted(60_000);
  summary = await pipeline.stop();
}, 120_000);

afterAll(async () => {
  await external?.stop();
  await rm(dataRoot, { recursive: true, force: true });
});

describe('local pipeline on an existing endpoint', () => {
  it('uses the given endpoint and creates the missing streams there', async () => {
    expect(kinesisEndpoint).toBe(external.endpoint);
    const client = createKinesisClient({ endpoint: external.endpoint });
    const streams = await client.send(new ListStreamsCommand({}));
    client.destroy();
    // Still answering after the runner stopped: the runner does not own this engine.
    expect(streams.StreamNames).toEqual(expect.arrayContaining(['orders', 'audit']));
  });

  it('accounts for this run\'s events and reports the earlier record as foreign', () => {
    expect(summary.accounted).toBe(true);
    const [all] = summary.consumers;
    expect(all!.produced).toBe(EVENTS);
    expect(all!.processed).toBe(EVENTS);
    // The pre-existing record is not valid JSON of a contract: quarantined, and not one of ours.
    expect(all!.foreign).toBe(1);
  });
});
