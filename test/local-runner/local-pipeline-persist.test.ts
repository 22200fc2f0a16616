/**
 * `--persist-stream`: kinesalite keeps the stream on disk under the data folder, so a restarted
 * runner still has the records (what a redrive of on-failure ranges needs); its consumers re-read
 * them from TRIM_HORIZON and the accounting reports them as foreign to the new run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { definePipeline } from '../../pipeline/define-pipeline';
import { startLocalPipeline } from '../../local/pipeline-runner';

const definition = definePipeline({
  name: 'persist',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 1 } } },
  consumers: {
    all: { entry: 'test/local-runner/fixtures/effects-consumer.ts', stream: 'orders', mapping: { startingPosition: 'TRIM_HORIZON', reportBatchItemFailures: true } },
  },
});

let dataRoot: string | undefined;
afterAll(async () => {
  if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
});

describe('--persist-stream', () => {
  it('keeps the stream across a restart of the runner', async () => {
    dataRoot = await mkdtemp(join(tmpdir(), 'local-persist-'));
    const first = await startLocalPipeline({ definition, dataDir: dataRoot, persistStream: true, rate: 200, events: 20, invalidFraction: 0, seed: 1 });
    expect(await first.waitUntilAccounted(60_000)).toBe(true);
    const firstSummary = await first.stop();
    expect(firstSummary.consumers[0]!.processed).toBe(20);

    const second = await startLocalPipeline({ definition, dataDir: dataRoot, persistStream: true, rate: 0 });
    let seen = 0;
    for (let i = 0; i < 200 && seen < 20; i++) {
      seen = second.lambda.get('all').emf.get('RecordsReceived');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const secondSummary = await second.stop();
    expect(seen).toBe(20);
    expect(secondSummary.produced).toBe(0);
    expect(secondSummary.consumers[0]!.foreign).toBe(20);
  }, 120_000);
});
