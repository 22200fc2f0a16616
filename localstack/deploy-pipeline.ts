/**
 * Deploys a pipeline definition with the AWS SDK alone (no terraform): the stream, per-consumer
 * on-failure and quarantine queues, every function from its bundle, and every event source mapping
 * with the definition's settings. Made for LocalStack (`npm run localstack:deploy`, and the LocalStack
 * test suite), where terraform is not needed to try the real event source mapping.
 *
 * The production path is `main.ts` (cdktf): this deployer skips IAM, KMS and alarms, which LocalStack
 * does not enforce, and says so rather than pretending.
 */
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetEventSourceMappingCommand,
  LambdaClient,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { waitForStreamActive } from '../kinesis/client';
import { deployedName, functionEnvironment, type PipelineDefinition } from '../pipeline';
import { createMappingInput } from './mapping-input';
import { createZip, type ZipEntry } from './zip';

export interface FunctionBundle {
  /** Files of the deployment package (e.g. `index.mjs`, `index.mjs.map`). */
  files: readonly ZipEntry[];
  /** Lambda handler string, e.g. `index.handler`. */
  handler: string;
}

export interface DeployClients {
  kinesis: KinesisClient;
  lambda: LambdaClient;
  sqs: SQSClient;
}

export interface DeployOptions {
  definition: PipelineDefinition;
  /** Stage part of every resource name (default `local`). */
  stage?: string;
  region: string;
  /** Account id used in ARNs (LocalStack's default is 000000000000). */
  accountId?: string;
  clients: DeployClients;
  /** Bundle of every consumer and function, by definition key. */
  bundles: Record<string, FunctionBundle>;
  /** Extra environment per function (by definition key), e.g. to force a consumer to fail in a drill. */
  extraEnvironment?: Record<string, Record<string, string>>;
  logLevel?: string;
  /** How long to wait for every mapping to be `Enabled`. */
  mappingTimeoutMs?: number;
  logger?: Logger;
}

export interface DeployedConsumer {
  functionName: string;
  functionArn: string;
  mappingUuid: string;
  onFailureQueueUrl: string;
  quarantineQueueUrl: string;
}

export interface DeployedPipeline {
  stage: string;
  streams: Record<string, { name: string; arn: string }>;
  consumers: Record<string, DeployedConsumer>;
  functions: Record<string, { functionName: string; functionArn: string }>;
}

/** The Lambda runtime the cdktf stack deploys too (infra/). */
const RUNTIME = 'nodejs22.x';
/** SQS maximum retention, 14 days (SQS API reference, MessageRetentionPeriod). */
const QUEUE_RETENTION_SECONDS = String(14 * 24 * 3600);

export async function deployPipeline(options: DeployOptions): Promise<DeployedPipeline> {
  const { definition, clients, region } = options;
  const stage = options.stage ?? 'local';
  const account = options.accountId ?? '000000000000';
  const name = (key: string) => deployedName(definition, stage, key);
  const log = options.logger;

  const streams: DeployedPipeline['streams'] = {};
  for (const [key, stream] of Object.entries(definition.streams)) {
    const streamName = name(key);
    await clients.kinesis.send(
      new CreateStreamCommand(
        stream.capacity.mode === 'PROVISIONED'
          ? { StreamName: streamName, ShardCount: stream.capacity.shardCount }
          : { StreamName: streamName, StreamModeDetails: { StreamMode: 'ON_DEMAND' } },
      ),
    );
    await waitForStreamActive(clients.kinesis, streamName);
    const arn = (await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName })))
      .StreamDescriptionSummary?.StreamARN;
    if (!arn) throw new Error(`stream ${streamName} has no StreamARN`);
    streams[key] = { name: streamName, arn };
    log?.info({ stream: streamName }, 'stream created');
  }

  const queues: Record<string, { onFailure: { url: string; arn: string }; quarantine: { url: string; arn: string } }> = {};
  for (const key of Object.keys(definition.consumers)) {
    queues[key] = {
      onFailure: await createQueue(clients.sqs, `${name(key)}-on-failure`),
      quarantine: await createQueue(clients.sqs, `${name(key)}-quarantine`),
    };
  }

  const functionArn = (key: string) => `arn:aws:lambda:${region}:${account}:function:${name(key)}`;
  const allFunctions = [...Object.keys(definition.functions), ...Object.keys(definition.consumers)];
  for (const key of allFunctions) {
    const fn = definition.consumers[key] ?? definition.functions[key]!;
    const bundle = options.bundles[key];
    if (!bundle) throw new Error(`no bundle for function "${key}"`);
    const environment = functionEnvironment(definition, key, {
      functionName: name,
      quarantineQueueUrl: (consumer) => queues[consumer]?.quarantine.url,
      ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
      ...(options.extraEnvironment?.[key] ? { extra: options.extraEnvironment[key] } : {}),
    });
    await clients.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name(key),
        Runtime: RUNTIME,
        // LocalStack does not enforce IAM; the role only has to be a well-formed ARN.
        Role: `arn:aws:iam::${account}:role/${name(key)}`,
        Handler: bundle.handler,
        Code: { ZipFile: createZip(bundle.files) },
        MemorySize: fn.memoryMb,
        Timeout: fn.timeoutSeconds,
        Environment: { Variables: environment },
        ...(fn.description !== undefined ? { Description: fn.description } : {}),
      }),
    );
    await waitUntilFunctionActiveV2({ client: clients.lambda, maxWaitTime: 180 }, { FunctionName: name(key) });
    log?.info({ function: name(key) }, 'function created');
  }
  // Invoke permissions for the functions each one calls (mirrors the least-privilege roles in infra/).
  for (const key of allFunctions) {
    const fn = definition.consumers[key] ?? definition.functions[key]!;
    for (const target of fn.invokes) {
      await clients.lambda.send(
        new AddPermissionCommand({
          FunctionName: name(target),
          StatementId: `invoke-from-${key}`,
          Action: 'lambda:InvokeFunction',
          Principal: `arn:aws:iam::${account}:role/${name(key)}`,
        }),
      );
    }
  }

  const consumers: DeployedPipeline['consumers'] = {};
  for (const [key, consumer] of Object.entries(definition.consumers)) {
    const stream = streams[consumer.stream]!;
    const queue = queues[key]!;
    const mapping = await clients.lambda.send(
      new CreateEventSourceMappingCommand(
        createMappingInput(consumer.mapping, {
          functionName: name(key),
          streamArn: stream.arn,
          onFailureQueueArn: queue.onFailure.arn,
        }),
      ),
    );
    if (!mapping.UUID) throw new Error(`CreateEventSourceMapping for ${name(key)} returned no UUID`);
    consumers[key] = {
      functionName: name(key),
      functionArn: functionArn(key),
      mappingUuid: mapping.UUID,
      onFailureQueueUrl: queue.onFailure.url,
      quarantineQueueUrl: queue.quarantine.url,
    };
  }
  await Promise.all(
    Object.values(consumers).map((c) => waitForMappingEnabled(clients.lambda, c.mappingUuid, options.mappingTimeoutMs ?? 120_000)),
  );

  const functions: DeployedPipeline['functions'] = {};
  for (const key of Object.keys(definition.functions)) functions[key] = { functionName: name(key), functionArn: functionArn(key) };
  return { stage, streams, consumers, functions };
}

async function createQueue(sqs: SQSClient, queueName: string): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: queueName, Attributes: { MessageRetentionPeriod: QUEUE_RETENTION_SECONDS } }),
  );
  const url = created.QueueUrl;
  if (!url) throw new Error(`CreateQueue ${queueName} returned no URL`);
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = attributes.Attributes?.['QueueArn'];
  if (!arn) throw new Error(`queue ${queueName} has no QueueArn`);
  return { url, arn };
}

/** A new mapping goes Creating -> Enabling -> Enabled (Lambda API reference, EventSourceMappingConfiguration.State). */
async function waitForMappingEnabled(lambda: LambdaClient, uuid: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let state: string | undefined;
  while (Date.now() < deadline) {
    state = (await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).State;
    if (state === 'Enabled') return;
    await delay(500);
  }
  throw new Error(`event source mapping ${uuid} is still "${state}" after ${timeoutMs} ms`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
