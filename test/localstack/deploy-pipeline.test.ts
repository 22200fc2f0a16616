/**
 * The SDK deployer the LocalStack suite uses, proven here without Docker: Kinesis is a real emulator
 * (kinesalite), Lambda and SQS (which no emulator here covers) are aws-sdk-client-mock, asserting the
 * exact commands and inputs a LocalStack or AWS endpoint would receive.
 */
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetEventSourceMappingCommand,
  GetFunctionCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../kinesis/client';
import { deployPipeline, type DeployedPipeline, type FunctionBundle } from '../../localstack/deploy-pipeline';
import { pipeline } from '../../pipeline';
import { readZipWithPython } from './read-zip';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';

const REGION = 'us-east-1';
const names = [...Object.keys(pipeline.consumers), ...Object.keys(pipeline.functions)];
const bundles: Record<string, FunctionBundle> = Object.fromEntries(
  names.map((name) => [name, { handler: 'index.handler', files: [{ name: 'index.mjs', data: Buffer.from(`// ${name}\n`) }] }]),
);

describe('deployPipeline (AWS SDK deployment used for LocalStack)', () => {
  let kinesis: EmbeddedKinesis;
  const lambdaMock = mockClient(LambdaClient);
  const sqsMock = mockClient(SQSClient);
  let deployed: DeployedPipeline;
  /** The states each mapping (by UUID) was seen in, in order. */
  const mappingPolls = new Map<string, string[]>();

  beforeAll(async () => {
    kinesis = await startKinesalite();
    sqsMock
      .on(CreateQueueCommand)
      .callsFake((input: { QueueName: string }) => ({ QueueUrl: `http://sqs.local/000000000000/${input.QueueName}` }));
    sqsMock.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => ({
      Attributes: { QueueArn: `arn:aws:sqs:${REGION}:000000000000:${input.QueueUrl.split('/').pop()}` },
    }));
    lambdaMock.on(CreateFunctionCommand).resolves({});
    lambdaMock.on(GetFunctionCommand).resolves({ Configuration: { State: 'Active' } });
    lambdaMock.on(AddPermissionCommand).resolves({});
    let uuid = 0;
    lambdaMock.on(CreateEventSourceMappingCommand).callsFake(() => ({ UUID: `uuid-${++uuid}`, State: 'Creating' }));
    // Creating -> Enabling -> Enabled, as the Lambda API reference describes a new mapping's states.
    // Each mapping by its own UUID: a shared counter would let one mapping's polls satisfy the other's wait.
    lambdaMock.on(GetEventSourceMappingCommand).callsFake((input: { UUID: string }) => {
      const polls = (mappingPolls.get(input.UUID) ?? []).length + 1;
      const state = polls <= 2 ? 'Creating' : polls <= 4 ? 'Enabling' : 'Enabled';
      mappingPolls.set(input.UUID, [...(mappingPolls.get(input.UUID) ?? []), state]);
      return { UUID: input.UUID, State: state };
    });
    deployed = await deployPipeline({
      definition: pipeline,
      stage: 'it',
      region: REGION,
      clients: {
        kinesis: createKinesisClient({ endpoint: kinesis.endpoint, region: REGION }),
        lambda: new LambdaClient({ region: REGION }),
        sqs: new SQSClient({ region: REGION }),
      },
      bundles,
      extraEnvironment: { 'order-review': { REVIEW_INTAKE_FUNCTION_NAME: 'drill-target' } },
    });
  });

  afterAll(async () => {
    lambdaMock.restore();
    sqsMock.restore();
    await kinesis?.stop();
  });

  it('creates each stream of the definition, ACTIVE, with its shard count', async () => {
    const client = createKinesisClient({ endpoint: kinesis.endpoint, region: REGION });
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'orders-it-orders' }));
    const stream = pipeline.streams['orders']!;
    expect(summary.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    expect(summary.StreamDescriptionSummary?.OpenShardCount).toBe(stream.capacity.mode === 'PROVISIONED' ? stream.capacity.shardCount : undefined);
    expect(deployed.streams['orders']).toEqual({ name: 'orders-it-orders', arn: summary.StreamDescriptionSummary?.StreamARN });
  });

  it('creates an on-failure and a quarantine queue per consumer, 14-day retention', () => {
    const created = sqsMock.commandCalls(CreateQueueCommand).map((c) => c.args[0].input);
    expect(created.map((q) => q.QueueName).sort()).toEqual(
      Object.keys(pipeline.consumers).flatMap((c) => [`orders-it-${c}-on-failure`, `orders-it-${c}-quarantine`]).sort(),
    );
    for (const q of created) expect(q.Attributes?.MessageRetentionPeriod).toBe(String(14 * 86_400));
  });

  it('creates every function from its bundle with the definition settings and the shared environment', () => {
    const calls = lambdaMock.commandCalls(CreateFunctionCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.FunctionName).sort()).toEqual(names.map((n) => `orders-it-${n}`).sort());
    const review = calls.find((c) => c.FunctionName === 'orders-it-order-review')!;
    const definition = pipeline.consumers['order-review']!;
    expect(review).toMatchObject({
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: definition.memoryMb,
      Timeout: definition.timeoutSeconds,
    });
    expect(review.Environment?.Variables).toMatchObject({
      ...definition.environment,
      CONSUMER_NAME: 'order-review',
      QUARANTINE_QUEUE_URL: 'http://sqs.local/000000000000/orders-it-order-review-quarantine',
      // the drill override wins over the resolved name
      REVIEW_INTAKE_FUNCTION_NAME: 'drill-target',
    });
    expect(readZipWithPython(review.Code!.ZipFile!)).toEqual({ 'index.mjs': '// order-review\n' });
    const intake = calls.find((c) => c.FunctionName === 'orders-it-review-intake')!;
    expect(intake.Environment?.Variables).not.toHaveProperty('QUARANTINE_QUEUE_URL');
  });

  it('lets each function invoke only the functions the definition says it invokes', () => {
    const grants = lambdaMock.commandCalls(AddPermissionCommand).map((c) => c.args[0].input);
    expect(grants).toEqual([
      {
        FunctionName: 'orders-it-review-intake',
        StatementId: 'invoke-from-order-review',
        Action: 'lambda:InvokeFunction',
        Principal: 'arn:aws:iam::000000000000:role/orders-it-order-review',
      },
    ]);
  });

  it('maps every consumer with the definition settings and waits until each mapping is Enabled', () => {
    const mappings = lambdaMock.commandCalls(CreateEventSourceMappingCommand).map((c) => c.args[0].input);
    expect(mappings).toHaveLength(Object.keys(pipeline.consumers).length);
    const metrics = mappings.find((m) => m.FunctionName === 'orders-it-order-metrics')!;
    const settings = pipeline.consumers['order-metrics']!.mapping;
    expect(metrics).toMatchObject({
      EventSourceArn: deployed.streams['orders']!.arn,
      BatchSize: settings.batchSize,
      TumblingWindowInSeconds: settings.tumblingWindowInSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: `arn:aws:sqs:${REGION}:000000000000:orders-it-order-metrics-on-failure` } },
    });
    expect(Object.values(deployed.consumers).map((c) => c.mappingUuid).sort()).toEqual(['uuid-1', 'uuid-2']);
    // Every mapping was polled through Creating and Enabling until it was Enabled itself, then no more.
    for (const uuid of ['uuid-1', 'uuid-2']) {
      expect(mappingPolls.get(uuid), uuid).toEqual(['Creating', 'Creating', 'Enabling', 'Enabling', 'Enabled']);
    }
  });
});
