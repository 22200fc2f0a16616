/**
 * `--persist-stream`: kinesalite keeps the stream on disk under the data folder, so a restarted
 * runner still has the records (what a redrive of on-failure ranges needs), and the event source
 * mappings keep their checkpoints under `<data-dir>/checkpoints`, so the restarted consumers resume
 * where they stopped, as an AWS mapping does across deploys: nothing is processed twice. The same
 * holds with `--endpoint` (a Kinesis that outlives the runner).
 */
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../kinesis/client';
import { definePipeline } from '../../pipeline/define-pipeline';
import { createFixtures } from '../../schemas/fixtures';
import { startLocalPipeline } from '../../local/pipeline-runner';
import { TAIL_PAGE_LIMIT } from '../../local/stream-backlog';
import { startHoldingProxy } from '../local-esm/holding-proxy';
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

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

/** Until `file` changed `times` times (or `give` says stop). */
async function waitForRewrites(file: string, times: number, give: () => boolean): Promise<void> {
  let last = await stat(file).then((s) => s.mtimeMs, () => 0);
  for (let seen = 0; seen < times && !give(); ) {
    await new Promise((r) => setTimeout(r, 20));
    const now = await stat(file).then((s) => s.mtimeMs, () => 0);
    if (now !== last) {
      seen += 1;
      last = now;
    }
  }
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

/** One record per invocation: a stop that did not wait would leave most of a backlog unprocessed. */
const oneByOne = definePipeline({
  name: 'persist',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 2 } } },
  consumers: {
    all: { entry: 'test/local-runner/fixtures/effects-consumer.ts', stream: 'orders', mapping: { startingPosition: 'TRIM_HORIZON', reportBatchItemFailures: true, batchSize: 1 } },
  },
});

describe('a restarted runner with records an earlier run left unprocessed', () => {
  it('drains them too: stop() waits until every consumer has checkpointed up to the tip, and the summary counts them as backlog', async () => {
    const kinesis = await startKinesalite();
    try {
      const root = await dataRoot();
      const connection = { endpoint: kinesis.endpoint };
      const first = await startLocalPipeline({ definition: oneByOne, dataDir: root, ...connection, rate: 200, events: 10, invalidFraction: 0, seed: 5 });
      expect(await first.waitUntilAccounted(60_000)).toBe(true);
      expect((await first.stop()).backlogAtStart).toBe(0);
      // Records no runner processed (what a runner killed before it caught up leaves on the stream).
      const left = createFixtures({ seed: 91 }).take(20);
      const client = createKinesisClient({ endpoint: kinesis.endpoint, region: 'us-east-1' });
      const put = await client.send(
        new PutRecordsCommand({ StreamName: 'orders', Records: left.map((e) => ({ Data: Buffer.from(JSON.stringify(e)), PartitionKey: e.data.orderId })) }),
      );
      client.destroy();
      expect(put.FailedRecordCount).toBe(0);

      // Upstream off. The mapping's GetRecords are held, so when stop() is called it has read nothing
      // (a stop processes what was read, never what was not). The runner's own reads of the tip (pages of
      // TAIL_PAGE_LIMIT) pass at start; at the drain they are held too, then let through, so the test
      // knows the drain has read the tip before it lets the mapping read.
      const isTailRead = (body: Record<string, unknown>) => body['Limit'] === TAIL_PAGE_LIMIT;
      let holdTailReads = false;
      const proxy = await startHoldingProxy(kinesis.endpoint, 'GetRecords', { holdWhen: (body) => holdTailReads || !isTailRead(body) });
      const second = await startLocalPipeline({ definition: oneByOne, dataDir: root, endpoint: proxy.endpoint, rate: 0 });
      holdTailReads = true;
      let stopped = false;
      const stopping = second.stop().finally(() => (stopped = true));
      await waitUntil(() => proxy.held >= 3 || stopped); // one read per shard by the mapping, one of the runner (the drain reads the tip after the start read)
      expect(stopped).toBe(false);
      holdTailReads = false;
      proxy.release(isTailRead);
      // The drain now waits for the checkpoints: runner.json is rewritten on every poll of that wait.
      await waitForRewrites(second.dataDir.runnerFile, 3, () => stopped);
      expect(stopped).toBe(false);
      proxy.release();
      const summary = await stopping;
      await proxy.stop();
      expect(summary).toMatchObject({ produced: 0, processed: 0, backlogAtStart: 20, backlogCheckpointed: 20, missing: 0, accounted: true });
      expect(summary.consumers[0]).toMatchObject({ consumer: 'all', backlogAtStart: 20, backlogCheckpointed: 20, accounted: true });
      const ids = await effects(root);
      expect(ids).toEqual(expect.arrayContaining(left.map((e) => e.id)));
      expect(new Set(ids).size).toBe(30);
      expect(ids).toHaveLength(30);

      // Caught up: the next restart has no backlog.
      const third = await startLocalPipeline({ definition: oneByOne, dataDir: root, ...connection, rate: 0 });
      expect(await third.stop()).toMatchObject({ backlogAtStart: 0, backlogCheckpointed: 0, accounted: true });
    } finally {
      await kinesis.stop();
    }
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
