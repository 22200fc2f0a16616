/**
 * End to end on kinesalite: startLocalPipeline with consumers built on the real consumer runtime.
 * Proves that every produced event is processed, filtered or quarantined by every consumer (none
 * lost), that no event took effect twice, that crashed and timed-out sandboxes are replaced while the
 * mapping retries, that discarded batches land in the on-failure file, and that runner.json
 * describes the running pipeline.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePipeline } from '../../pipeline/define-pipeline';
import { startLocalPipeline, type LocalPipeline, type RunSummary } from '../../local/pipeline-runner';
import type { RunnerStateFile } from '../../local/runner-state-file';
import { renderSummary, renderView, plain } from '../../local/live-view';
import { createFixtures } from '../../schemas/fixtures';

const EVENTS = 300;
const effects = 'test/local-runner/fixtures/effects-consumer.ts';
const base = { startingPosition: 'TRIM_HORIZON', reportBatchItemFailures: true, batchSize: 50 } as const;

const definition = definePipeline({
  name: 'e2e',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 2 } } },
  consumers: {
    all: { entry: effects, stream: 'orders', timeoutSeconds: 20, mapping: { ...base, parallelizationFactor: 2, bisectBatchOnFunctionError: true } },
    // Filtered by the runtime after deaggregation (recordFilterPatterns); the runner marks what it leaves out.
    placed: { entry: effects, stream: 'orders', timeoutSeconds: 20, mapping: base, recordFilterPatterns: [{ data: { type: ['order.placed'] } }] },
    flaky: { entry: 'test/local-runner/fixtures/flaky-consumer.ts', stream: 'orders', timeoutSeconds: 2, mapping: { ...base, maximumRetryAttempts: 10 } },
    failing: {
      entry: 'test/local-runner/fixtures/always-fails.ts',
      stream: 'orders',
      timeoutSeconds: 5,
      mapping: { ...base, batchSize: 100, maximumRetryAttempts: 1, onFailureDestination: 'queue' },
      poisonRecordAttempts: 2,
    },
  },
});

let dataRoot: string;
let pipeline: LocalPipeline;
let summary: RunSummary;
let accountedInTime: boolean;
let runningState: RunnerStateFile;
let invokeResult: { status?: number; body: unknown };
/** The event invoked directly into consumer `all` (one extra effect there). */
let directEventId: string;
let viewLines: string[];

async function ndjson(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'local-pipeline-'));
  pipeline = await startLocalPipeline({
    definition,
    dataDir: dataRoot,
    rate: 500,
    events: EVENTS,
    invalidFraction: 0.1,
    seed: 42,
    esmTiming: { retryBaseDelayMs: 50, retryMaxDelayMs: 200 },
    refreshIntervalMs: 200,
  });
  accountedInTime = await pipeline.waitUntilAccounted(90_000);
  runningState = JSON.parse(await readFile(pipeline.dataDir.runnerFile, 'utf8')) as RunnerStateFile;
  viewLines = renderView(pipeline.snapshot());

  // The ops CLI's `redrive --mode invoke` path: a consumer invoked through the Lambda endpoint.
  const lambda = new LambdaClient({ region: pipeline.region, endpoint: pipeline.lambdaEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const event = createFixtures({ seed: 9 }).orderPlaced();
  directEventId = event.id;
  const record = {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: event.data.orderId,
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      data: Buffer.from(JSON.stringify(event)).toString('base64'),
      approximateArrivalTimestamp: Date.now() / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: 'shardId-000000000000:49590338271490256608559692538361571095921575989136588898',
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/all',
    awsRegion: pipeline.region,
    eventSourceARN: pipeline.streams.get('orders')!.arn,
  };
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'all', InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify({ Records: [record] })) }));
  invokeResult = { ...(out.StatusCode !== undefined ? { status: out.StatusCode } : {}), body: JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8')) };
  lambda.destroy();

  summary = await pipeline.stop({ drainTimeoutMs: 30_000 });
}, 180_000);

afterAll(async () => {
  await rm(dataRoot, { recursive: true, force: true });
});

describe('local pipeline on kinesalite', () => {
  it('accounts for every produced event in every consumer: none lost', () => {
    expect(accountedInTime).toBe(true);
    expect(summary.produced).toBe(EVENTS);
    expect(summary.failedPuts).toBe(0);
    expect(summary.producedInvalid).toBeGreaterThan(0);
    expect(summary.accounted).toBe(true);
    for (const c of summary.consumers) {
      expect(c.missing, c.consumer).toBe(0);
      expect(c.processed + c.filtered + c.quarantined + c.onFailure, c.consumer).toBe(EVENTS);
      expect(c.redeliveredAfterCheckpoint, c.consumer).toBe(0);
      expect(c.foreign, c.consumer).toBe(0);
    }
  });

  it('processes every valid event and quarantines every invalid one, each exactly once in effect', async () => {
    for (const name of ['all', 'flaky']) {
      const account = summary.consumers.find((c) => c.consumer === name)!;
      expect(account.processed, name).toBe(summary.producedValid);
      expect(account.quarantined, name).toBe(summary.producedInvalid);
      expect(account.validQuarantined, name).toBe(0);
      expect(account.invalidProcessed, name).toBe(0);
      const effectLines = await ndjson(join(dataRoot, 'effects', `${name}.ndjson`));
      // `all` also handled the one event invoked directly through the Lambda endpoint.
      const ids = effectLines.map((line) => line['id']).filter((id) => id !== directEventId);
      expect(new Set(ids).size, `${name}: distinct effects`).toBe(summary.producedValid);
      expect(ids.length, `${name}: effects in total (a duplicate would show here)`).toBe(summary.producedValid);
      const quarantined = await ndjson(pipeline.dataDir.quarantineFile(name));
      const keys = new Set(quarantined.map((q) => `${(q['record'] as { shardId: string }).shardId}:${(q['record'] as { sequenceNumber: string }).sequenceNumber}`));
      expect(keys.size, `${name}: distinct quarantined records`).toBe(summary.producedInvalid);
      for (const q of quarantined) {
        expect(typeof (q['record'] as { data?: string }).data, 'payload kept').toBe('string');
        expect(typeof (q['error'] as { message?: string }).message).toBe('string');
      }
    }
  });

  it('lets only matching events through a filter; the rest count as processed by filtering', async () => {
    const placed = summary.consumers.find((c) => c.consumer === 'placed')!;
    expect(placed.filtered).toBeGreaterThan(0);
    expect(placed.processed).toBeGreaterThan(0);
    const effectLines = await ndjson(join(dataRoot, 'effects', 'placed.ndjson'));
    expect(effectLines.every((line) => line['type'] === 'order.placed')).toBe(true);
    expect(new Set(effectLines.map((line) => line['id'])).size).toBe(effectLines.length);
    expect(effectLines.length).toBe(placed.processed);
  });

  it('turns a crash and a timeout into function errors, replaces the sandbox, and the mapping retries', () => {
    const flaky = pipeline.lambda.get('flaky').stats();
    expect(flaky.crashes).toBe(1);
    expect(flaky.timeouts).toBe(1);
    expect(flaky.sandboxesReplaced).toBe(2);
    const flakySummary = summary.consumers.find((c) => c.consumer === 'flaky')!;
    expect(flakySummary.accounted).toBe(true);
  });

  it('sends batches that exhaust their retries to the on-failure file in AWS shape, and counts them', async () => {
    const failing = summary.consumers.find((c) => c.consumer === 'failing')!;
    expect(failing.onFailure).toBe(EVENTS);
    expect(failing.accounted).toBe(true);
    const records = await ndjson(pipeline.dataDir.onFailureFile('failing'));
    expect(records.reduce((sum, r) => sum + (r['KinesisBatchInfo'] as { batchSize: number }).batchSize, 0)).toBe(EVENTS);
    for (const r of records) {
      expect(r['requestContext']).toMatchObject({ condition: 'RetryAttemptsExhausted', functionArn: expect.stringContaining(':function:failing') });
      expect(r['KinesisBatchInfo']).toMatchObject({ streamArn: pipeline.streams.get('orders')!.arn, shardId: expect.stringMatching(/^shardId-/) });
    }
  });

  it('serves the consumers behind the Lambda endpoint for RequestResponse invokes (redrive path)', async () => {
    expect(invokeResult.status).toBe(200);
    expect(invokeResult.body).toEqual({ batchItemFailures: [] });
    const effectLines = await ndjson(join(dataRoot, 'effects', 'all.ndjson'));
    expect(effectLines.filter((line) => line['id'] === directEventId)).toHaveLength(1);
  });

  it('describes the running pipeline in runner.json, and the final summary once stopped', async () => {
    expect(runningState.pid).toBe(process.pid);
    expect(runningState.state).toBe('running');
    expect(runningState.kinesisEndpoint).toBe(pipeline.kinesisEndpoint);
    expect(runningState.lambdaEndpoint).toBe(pipeline.lambdaEndpoint);
    expect(runningState.streams['orders']?.arn).toBe(pipeline.streams.get('orders')!.arn);
    expect(runningState.consumers['all']?.functionArn).toMatch(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:all$/);
    expect(runningState.functions['failing']?.functionName).toBe('failing');
    const final = JSON.parse(await readFile(pipeline.dataDir.runnerFile, 'utf8')) as RunnerStateFile;
    expect(final.state).toBe('stopped');
    expect((final.summary as RunSummary).accounted).toBe(true);
  });

  it('renders the live view and the summary within 80 columns', () => {
    for (const line of viewLines) expect(plain(line).length, plain(line)).toBeLessThanOrEqual(80);
    for (const line of renderSummary(summary)) expect(plain(line).length, plain(line)).toBeLessThanOrEqual(80);
    expect(viewLines.map(plain).join('\n')).toMatch(/^all\s+\d/m);
  });
});
