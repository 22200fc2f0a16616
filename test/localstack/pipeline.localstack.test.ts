/**
 * The pipeline deployed into LocalStack (its real Lambda event source mapping, running our bundled
 * functions in Lambda containers) and driven by the project's producer.
 *
 * Needs a container runtime: LocalStack runs in a container and starts Lambda containers through the
 * mounted Docker socket. Where `docker info` fails (this project's CI machines), the suite is skipped
 * with one printed line; it never passes in that case, it does not run.
 *
 * What LocalStack 4.14's mapping ignores (BisectBatchOnFunctionError, ParallelizationFactor,
 * TumblingWindowInSeconds) is not asserted here; those rules are proven against the local event source
 * mapping (test/local-esm/, docs/semantics.md). In particular order-metrics publishes its business
 * metrics on the final invoke of a tumbling window, which LocalStack never sends, so its CloudWatch
 * figures are asserted by the local-runner suite; here order-metrics is proven by its quarantine and by
 * Lambda's own invocation metrics.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { LocalstackContainer, type StartedLocalStackContainer } from '@testcontainers/localstack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionBundles } from '../../localstack/bundles';
import { createOpsClients, type OpsClients } from '../../ops/aws/clients';
import { deployPipeline, type DeployedPipeline, type FunctionBundle } from '../../localstack/deploy-pipeline';
import { definePipeline, pipeline } from '../../pipeline';
import { KinesisProducer } from '../../producers';
import { createFixtures } from '../../schemas/fixtures';
import { probeContainerRuntime } from '../support/container-runtime';

/** 4.14.0 is the last LocalStack release that runs without an auth token. */
const IMAGE = process.env['LOCALSTACK_IMAGE'] ?? 'localstack/localstack:4.14.0';
const REGION = 'us-east-1';
const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

const runtime = probeContainerRuntime();
if (!runtime.available) {
  process.stderr.write(
    `LocalStack suite skipped: no container runtime (${runtime.reason}). ` +
      'Run it where Docker runs: `npm run test:localstack` (image override: LOCALSTACK_IMAGE).\n',
  );
}

/** The drill stage: order-review calls a function that does not exist (configuration, not code), with one retry. */
const drillDefinition = definePipeline({
  ...pipeline,
  consumers: {
    'order-review': {
      ...pipeline.consumers['order-review']!,
      mapping: { ...pipeline.consumers['order-review']!.mapping, maximumRetryAttempts: 1, bisectBatchOnFunctionError: false },
      poisonRecordAttempts: 2,
    },
  },
});

/** Poll `probe` until it returns a value, with a bounded number of attempts (no fixed sleeps). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function drainQueue(clients: OpsClients, queueUrl: string, into: Message[]): Promise<Message[]> {
  const out = await clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  for (const message of out.Messages ?? []) {
    into.push(message);
    await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
  }
  return into;
}

async function lambdaMetricSum(clients: OpsClients, functionName: string, metric: 'Invocations' | 'Errors'): Promise<number> {
  const now = Date.now();
  const out = await clients.cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/Lambda',
      MetricName: metric,
      Dimensions: [{ Name: 'FunctionName', Value: functionName }],
      StartTime: new Date(now - 3_600_000),
      EndTime: new Date(now + 60_000),
      Period: 60,
      Statistics: ['Sum'],
    }),
  );
  return (out.Datapoints ?? []).reduce((sum, point) => sum + (point.Sum ?? 0), 0);
}

describe.skipIf(!runtime.available)('pipeline on LocalStack (real event source mapping, Lambda containers)', () => {
  let container: StartedLocalStackContainer;
  let clients: OpsClients;
  let deployed: DeployedPipeline;
  let drill: DeployedPipeline;
  let endpoint: string;

  beforeAll(async () => {
    container = await new LocalstackContainer(IMAGE)
      .withBindMounts([{ source: '/var/run/docker.sock', target: '/var/run/docker.sock' }])
      .withEnvironment({ SERVICES: 'kinesis,lambda,sqs,cloudwatch,logs,iam,sts' })
      .start();
    endpoint = container.getConnectionUri();
    clients = createOpsClients({ region: REGION, endpoint });
    const bundles: Record<string, FunctionBundle> = await buildFunctionBundles({
      definition: pipeline,
      projectRoot: PROJECT_ROOT,
      outDir: mkdtempSync(join(tmpdir(), 'localstack-bundles-')),
    });
    deployed = await deployPipeline({ definition: pipeline, stage: 'it', region: REGION, clients, bundles });
    drill = await deployPipeline({
      definition: drillDefinition,
      stage: 'drill',
      region: REGION,
      clients,
      bundles,
      extraEnvironment: { 'order-review': { REVIEW_INTAKE_FUNCTION_NAME: 'orders-drill-no-such-function' } },
    });
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
  });

  it('processes valid events, quarantines invalid ones with payload and reason, and reaches review-intake', async () => {
    const fixtures = createFixtures({ seed: 7 });
    const producer = new KinesisProducer({ streamName: deployed.streams['orders']!.name, endpoint, region: REGION });
    const valid = fixtures.take(60);
    // Orders with more lines than REVIEW_MAX_LINES (30), so order-review sends them for review.
    for (let i = 0; i < 5; i++) valid.push(fixtures.orderPlaced({ lines: 40 }));
    const invalid = Array.from({ length: 6 }, () => fixtures.invalid());
    await Promise.all(valid.map((event) => producer.put(event)));
    await Promise.all(
      invalid.map((bad, i) => producer.putRecord({ partitionKey: `bad-${i}`, data: JSON.stringify(bad.value) })),
    );
    await producer.close();

    const quarantined: Message[] = [];
    const messages = await eventually('every invalid event in order-metrics quarantine', async () => {
      await drainQueue(clients, deployed.consumers['order-metrics']!.quarantineQueueUrl, quarantined);
      return quarantined.length >= invalid.length ? quarantined : undefined;
    });
    const records = messages.map((m) => JSON.parse(m.Body!) as { error: { kind: string; message: string }; record: { data: string } });
    expect(records).toHaveLength(invalid.length);
    const payloads = records.map((r) => Buffer.from(r.record.data, 'base64').toString('utf8')).sort();
    expect(payloads).toEqual(invalid.map((bad) => JSON.stringify(bad.value)).sort());
    for (const record of records) expect(record.error.message.length).toBeGreaterThan(0);

    const reviewIntake = deployed.functions['review-intake']!.functionName;
    await eventually('review-intake invoked by order-review', async () =>
      (await lambdaMetricSum(clients, reviewIntake, 'Invocations')) > 0 ? true : undefined,
    );
    expect(await lambdaMetricSum(clients, deployed.consumers['order-metrics']!.functionName, 'Invocations')).toBeGreaterThan(0);
  });

  it('a consumer forced to fail by configuration sends on-failure records with KinesisBatchInfo after its retries', async () => {
    const fixtures = createFixtures({ seed: 8 });
    const streamArn = drill.streams['orders']!.arn;
    const producer = new KinesisProducer({ streamName: drill.streams['orders']!.name, endpoint, region: REGION });
    await Promise.all(Array.from({ length: 5 }, () => producer.put(fixtures.orderPlaced({ lines: 40 }))));
    await producer.close();

    const received: Message[] = [];
    const messages = await eventually('an on-failure record', async () => {
      await drainQueue(clients, drill.consumers['order-review']!.onFailureQueueUrl, received);
      return received.length > 0 ? received : undefined;
    });
    const record = JSON.parse(messages[0]!.Body!) as {
      requestContext: { condition: string; functionArn: string };
      KinesisBatchInfo: { shardId: string; startSequenceNumber: string; endSequenceNumber: string; batchSize: number; streamArn: string };
    };
    expect(record.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(record.requestContext.functionArn).toContain(drill.consumers['order-review']!.functionName);
    expect(record.KinesisBatchInfo.streamArn).toBe(streamArn);
    expect(record.KinesisBatchInfo.shardId).toMatch(/^shardId-\d{12}$/);
    expect(BigInt(record.KinesisBatchInfo.endSequenceNumber)).toBeGreaterThanOrEqual(BigInt(record.KinesisBatchInfo.startSequenceNumber));
    expect(record.KinesisBatchInfo.batchSize).toBeGreaterThan(0);
  });
});
