/**
 * Smoke test of the same flow on kinesis-local (kinesis-mock, LocalStack's Kinesis engine):
 * produce valid and invalid events through the runner and account for every one.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePipeline } from '../../pipeline/define-pipeline';
import { startLocalPipeline, type RunSummary } from '../../local/pipeline-runner';

const EVENTS = 80;
const definition = definePipeline({
  name: 'smoke',
  streams: { orders: { capacity: { mode: 'ON_DEMAND' } } },
  consumers: {
    all: {
      entry: 'test/local-runner/fixtures/effects-consumer.ts',
      stream: 'orders',
      timeoutSeconds: 20,
      mapping: { startingPosition: 'TRIM_HORIZON', batchSize: 100, reportBatchItemFailures: true },
    },
  },
});

let dataRoot: string;
let summary: RunSummary;
let accounted: boolean;
let shards: number;

beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'local-pipeline-kl-'));
  const pipeline = await startLocalPipeline({ definition, dataDir: dataRoot, kinesis: 'kinesis-local', rate: 400, events: EVENTS, invalidFraction: 0.1, seed: 5 });
  shards = pipeline.streams.get('orders')!.shardIds.length;
  accounted = await pipeline.waitUntilAccounted(90_000);
  summary = await pipeline.stop({ drainTimeoutMs: 30_000 });
}, 180_000);

afterAll(async () => {
  await rm(dataRoot, { recursive: true, force: true });
});

describe('local pipeline on kinesis-local', () => {
  it('creates an ON_DEMAND stream with the 4 shards a new on-demand stream starts with', () => {
    expect(shards).toBe(4);
  });

  it('processes every valid event once and quarantines every invalid one', async () => {
    expect(accounted).toBe(true);
    expect(summary.accounted).toBe(true);
    expect(summary.produced).toBe(EVENTS);
    const [all] = summary.consumers;
    expect(all!.processed).toBe(summary.producedValid);
    expect(all!.quarantined).toBe(summary.producedInvalid);
    expect(all!.missing).toBe(0);
    const lines = (await readFile(join(dataRoot, 'effects', 'all.ndjson'), 'utf8')).split('\n').filter(Boolean);
    const ids = lines.map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids.length).toBe(summary.producedValid);
    expect(new Set(ids).size).toBe(summary.producedValid);
  });
});
