/**
 * `npm start` keeps effects exactly once across containers: a consumer declaring `idempotencyTable`
 * gets its DynamoDB table on dynalite; its sandbox dies after its first batch took effect (before
 * answering), the mapping retries the batch on a fresh sandbox, and the durable claims skip every
 * event that already took effect. Ground truth: the valid events the upstream put, each once.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../kinesis/client';
import { definePipeline } from '../../pipeline/define-pipeline';
import { startLocalPipeline, type RunSummary } from '../../local/pipeline-runner';
import type { RunnerStateFile } from '../../local/runner-state-file';

const definition = definePipeline({
  name: 'durable',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 1 } } },
  consumers: {
    crashy: {
      entry: 'test/local-runner/fixtures/crash-after-effects.ts',
      stream: 'orders',
      timeoutSeconds: 20,
      idempotencyTable: true,
      mapping: { startingPosition: 'TRIM_HORIZON', reportBatchItemFailures: true, batchSize: 100, maximumBatchingWindowInSeconds: 1, maximumRetryAttempts: 5 },
    },
  },
});

let dataRoot: string;
let summary: RunSummary;
let state: RunnerStateFile;
let effects: string[];
let completedClaims: number;

beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'local-idempotency-'));
  const pipeline = await startLocalPipeline({ definition, dataDir: dataRoot, rate: 200, events: 60, invalidFraction: 0, seed: 7, refreshIntervalMs: 200, esmTiming: { retryBaseDelayMs: 50, retryMaxDelayMs: 200 } });
  await pipeline.waitUntilAccounted(60_000);
  state = JSON.parse(await readFile(pipeline.dataDir.runnerFile, 'utf8')) as RunnerStateFile;
  const dynamo = new DynamoDBClient({ endpoint: state.dynamodbEndpoint!, region: pipeline.region, credentials: LOCAL_CREDENTIALS });
  const scan = await dynamo.send(new ScanCommand({ TableName: state.idempotencyTables!['crashy']! }));
  completedClaims = (scan.Items ?? []).filter((item) => item['status']?.S === 'COMPLETED').length;
  dynamo.destroy();
  summary = await pipeline.stop({ drainTimeoutMs: 30_000 });
  const text = await readFile(join(dataRoot, 'effects', 'crashy.ndjson'), 'utf8');
  effects = text.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: string }).id);
}, 120_000);

afterAll(async () => {
  await rm(dataRoot, { recursive: true, force: true });
});

describe('local runner: idempotency table on dynalite', () => {
  it('the sandbox crashed once after its effects, and the retry on a new sandbox repeated none of them', async () => {
    expect(summary.accounted).toBe(true);
    expect(summary.producedValid).toBe(60);
    expect(new Set(effects).size).toBe(60);
    expect(effects).toHaveLength(60);
    expect(completedClaims).toBe(60);
    const crashed = await readFile(join(dataRoot, 'effects', 'crashy.crashed'), 'utf8');
    expect(crashed).toBe('crashed once\n');
  });

  it('runner.json names the dynalite endpoint and the table, as ops redrive needs them', () => {
    expect(state.dynamodbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(state.idempotencyTables).toEqual({ crashy: 'crashy-idempotency' });
  });
});
