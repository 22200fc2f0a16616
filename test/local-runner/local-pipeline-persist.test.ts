/**
 * `--persist-stream`: kinesalite keeps the stream on disk under the data folder, so a restarted
 * runner still has the records (what a redrive of on-failure ranges needs), and the event source
 * mappings keep their checkpoints under `<data-dir>/checkpoints`, so the restarted consumers resume
 * where they stopped, as an AWS mapping does across deploys: nothing is processed twice. The same
 * holds with `--endpoint` (a Kinesis that outlives the runner).
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { definePipeline } from '../../pipeline/define-pipeline';
import { startLocalPipeline } from '../../local/pipeline-runner';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';
import { readAllRecords } from '../support/read-stream';

const definition = definePipeline({
  name: 'persist',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 2 } } },
  consumers: {
    all: { entry: 'test/local-runner/fixtures/effects-consumer.ts', stream: 'orders', mapping: { startingPosition: 'TRIM_HORIZON', reportBatchItemFailures: true } },
  },
});

const roots: string[] = [];
let external: EmbeddedKinesis | undefined;
afterAll(async () => {
  await external?.stop();
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function dataRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'local-persist-'));
  roots.push(root);
  return root;
}

/** Ids of the events that took effect (the fixture consumer's one side effect), with repeats. */
async function effects(root: string): Promise<string[]> {
  const text = await readFile(join(root, 'effects', 'all.ndjson'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { id: string }).id);
}

/** Two runs on the same data folder: the second produces more events and must process only those. */
async function twoRuns(root: string, connection: { persistStream: true } | { endpoint: string }) {
  const first = await startLocalPipeline({ definition, dataDir: root, ...connection, rate: 200, events: 20, invalidFraction: 0, seed: 1 });
  expect(await first.waitUntilAccounted(60_000)).toBe(true);
  const firstSummary = await first.stop();
  expect(firstSummary.consumers[0]!.processed).toBe(20);

  const second = await startLocalPipeline({ definition, dataDir: root, ...connection, rate: 200, events: 15, invalidFraction: 0, seed: 2 });
  expect(await second.waitUntilAccounted(60_000)).toBe(true);
  const received = () => second.lambda.get('all').emf.get('RecordsReceived');
  const stored = await readAllRecords(second.kinesis, 'orders');
  const secondSummary = await second.stop();
  return { received: received(), stored, secondSummary };
}

describe('--persist-stream', () => {
  it('keeps the stream and the consumers\' checkpoints across a restart: the restarted runner processes only the new events', async () => {
    const root = await dataRoot();
    const { received, stored, secondSummary } = await twoRuns(root, { persistStream: true });
    // The stream kept the first run's records...
    expect(stored).toHaveLength(35);
    // ...but the restarted consumer resumed after its checkpoints: only this run's 15 reached the function.
    expect(received).toBe(15);
    const [all] = secondSummary.consumers;
    expect(all).toMatchObject({ produced: 15, processed: 15, foreign: 0, redeliveredAfterCheckpoint: 0 });
    expect(secondSummary.accounted).toBe(true);
    const ids = await effects(root);
    expect(ids).toHaveLength(35);
    expect(new Set(ids).size).toBe(35);
    expect(await readdir(join(root, 'checkpoints', 'persist'))).toEqual(['all.orders.json']);
  }, 120_000);

  it('refuses to start on a corrupt checkpoint file, naming it (instead of processing everything again)', async () => {
    const root = await dataRoot();
    const first = await startLocalPipeline({ definition, dataDir: root, persistStream: true, rate: 200, events: 5, invalidFraction: 0, seed: 3 });
    expect(await first.waitUntilAccounted(60_000)).toBe(true);
    await first.stop();
    const file = join(root, 'checkpoints', 'persist', 'all.orders.json');
    await writeFile(file, 'not json');
    await expect(startLocalPipeline({ definition, dataDir: root, persistStream: true, rate: 0 })).rejects.toThrow(file);
    expect(await effects(root)).toHaveLength(5);
  }, 120_000);
});

describe('--endpoint', () => {
  it('keeps the checkpoints too: a runner restarted on the same Kinesis processes only the new events', async () => {
    external = await startKinesalite();
    const root = await dataRoot();
    const { received, stored, secondSummary } = await twoRuns(root, { endpoint: external.endpoint });
    expect(stored).toHaveLength(35);
    expect(received).toBe(15);
    expect(secondSummary.consumers[0]).toMatchObject({ produced: 15, processed: 15, foreign: 0 });
    expect(new Set(await effects(root)).size).toBe(35);
    expect(await effects(root)).toHaveLength(35);
  }, 120_000);
});
