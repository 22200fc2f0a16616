/**
 * One Terraform stack per stage: the pipeline definition with the stage's overrides applied, in the
 * stage's account and region, every resource tagged through the provider's default tags.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, DataResource, S3Backend, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { deployedName, functionEnvironment, idempotencyTableName, publishLedgerTableName, type PipelineDefinition } from '../pipeline';
import { applyStage } from './apply-stage';
import { AlarmTopic } from './constructs/alarm-topic';
import { BusinessAlarm } from './constructs/business-alarm';
import { PipelineConsumer } from './constructs/pipeline-consumer';
import { PipelineDashboard } from './constructs/pipeline-dashboard';
import { DownstreamFunction } from './constructs/downstream-function';
import { applicationLogLevel, type AwsLocation, type FunctionObservability } from './constructs/pipeline-function';
import { BUNDLE_FILE } from './bundle';
import { placeholderFindings, placeholderMessage } from './placeholders';
import { PipelineStream } from './constructs/pipeline-stream';
import { StageKey } from './constructs/stage-key';
import { StreamAlarms } from './constructs/stream-alarms';
import { partitionOf } from './policy-document';
import type { StageConfig } from './stage-config';

export interface PipelineStackProps {
  /** The pipeline definition (as in pipeline/pipeline.ts); the stage's overrides are applied here. */
  definition: PipelineDefinition;
  stage: StageConfig;
  /** Folder with one bundle folder per function (`<bundleDir>/<name>/index.mjs`), see infra/bundle.ts. */
  bundleDir: string;
}

/**
 * Terraform >= 1.10: the S3 backend's native lock file (`use_lockfile`). The provider version is
 * pinned by @cdktf/provider-aws in required_providers.
 */
export const REQUIRED_TERRAFORM_VERSION = '>= 1.10.0';

/** Variable that lets a plan of a stage with placeholder values through (the offline Terraform tests set it). */
export const PLACEHOLDER_VARIABLE = 'allow_placeholder_stage';

/** `orders-dev`: the name `cdktf deploy` takes. */
export function stackName(definition: PipelineDefinition, stage: string): string {
  return `${definition.name}-${stage}`;
}

export class PipelineStack extends TerraformStack {
  /** The definition as deployed to this stage (overrides applied). */
  readonly definition: PipelineDefinition;
  readonly streams: Record<string, PipelineStream> = {};
  readonly consumers: Record<string, PipelineConsumer> = {};
  readonly functions: Record<string, DownstreamFunction> = {};

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id);
    const { stage } = props;
    const definition = applyStage(props.definition, stage);
    this.definition = definition;
    const prefix = stackName(definition, stage.stage);
    const location: AwsLocation = { account: stage.account, region: stage.region, partition: partitionOf(stage.region) };
    const name = (key: string): string => deployedName(definition, stage.stage, key);

    new AwsProvider(this, 'aws', {
      region: stage.region,
      // Credentials for another account fail the plan instead of deploying a stage into the wrong account.
      allowedAccountIds: [stage.account],
      defaultTags: [{ tags: { ...stage.tags, Project: definition.name, Stage: stage.stage, ManagedBy: 'cdktf', Stack: prefix } }],
    });
    this.configureBackend(stage, prefix);
    this.addOverride('terraform.required_version', REQUIRED_TERRAFORM_VERSION);
    this.guardPlaceholders(stage);
    const protect = stage.protectStatefulResources;

    const key = new StageKey(this, 'stage-key', {
      prefix,
      account: stage.account,
      region: stage.region,
      partition: location.partition,
      deletionWindowDays: stage.kmsDeletionWindowDays,
      protect,
    });
    const stageKeyArn = key.key.arn;
    const topic = new AlarmTopic(this, 'alarm-topic', { name: `${prefix}-alarms`, kmsKeyArn: stageKeyArn, ...location, email: stage.alarmEmail });
    const topicArn = topic.topic.arn;

    for (const [streamKey, streamDefinition] of Object.entries(definition.streams)) {
      const streamName = name(streamKey);
      this.streams[streamKey] = new PipelineStream(this, `stream-${streamKey}`, { name: streamName, definition: streamDefinition, stageKeyArn, protect });
      new StreamAlarms(this, `stream-${streamKey}-alarms`, {
        streamName,
        definition: streamDefinition,
        consumers: Object.values(definition.consumers).filter((c) => c.stream === streamKey),
        alarmTopicArn: topicArn,
      });
    }

    const environment = (fnKey: string, quarantineQueueUrl?: string, publishLedgerTable?: string, idempotencyTable?: string): Record<string, string> =>
      functionEnvironment(definition, fnKey, {
        functionName: name,
        quarantineQueueUrl: () => quarantineQueueUrl,
        publishLedgerTable: () => publishLedgerTable,
        idempotencyTable: () => idempotencyTable,
        logLevel: stage.logLevel,
        // Source maps are a debug choice of the stage (infra/bundle.ts): 10-25 ms of init CPU otherwise wasted.
        ...(stage.sourceMaps ? { extra: { NODE_OPTIONS: '--enable-source-maps' } } : {}),
      });
    if (stage.sourceMaps) this.requireSourceMaps(definition, props.bundleDir, stage.stage);
    const observability: FunctionObservability = {
      logKmsKeyArn: stageKeyArn,
      applicationLogLevel: applicationLogLevel(stage.logLevel),
      systemLogLevel: stage.systemLogLevel,
      tracing: stage.tracing,
    };

    // The shortest consumer alarm period: plain functions declare no alarm settings of their own.
    const alarmPeriodSeconds = Math.min(300, ...Object.values(definition.consumers).map((c) => c.alarms.periodSeconds));
    for (const [fnKey, fn] of Object.entries(definition.functions)) {
      this.functions[fnKey] = new DownstreamFunction(this, `function-${fnKey}`, {
        functionName: name(fnKey),
        definition: fn,
        bundlePath: join(props.bundleDir, fnKey),
        idempotencyTableName: idempotencyTableName(name(fnKey)),
        environment: (idempotencyTable) => environment(fnKey, undefined, undefined, idempotencyTable),
        location,
        invokeTargets: fn.invokes.map(name),
        stageKeyArn,
        alarmTopicArn: topicArn,
        alarmPeriodSeconds,
        observability,
        protect,
      });
    }

    for (const [consumerKey, consumer] of Object.entries(definition.consumers)) {
      this.warnAboutUnsafeMapping(consumerKey, consumer.mapping);
      this.warnAboutConcurrency(consumerKey, consumer, definition.streams[consumer.stream]);
      const stream = this.streams[consumer.stream];
      const streamDefinition = definition.streams[consumer.stream];
      if (!stream || !streamDefinition) throw new Error(`consumer ${consumerKey}: stream ${consumer.stream} not declared`);
      this.consumers[consumerKey] = new PipelineConsumer(this, `consumer-${consumerKey}`, {
        name: consumerKey,
        functionName: name(consumerKey),
        definition: consumer,
        streamDefinition,
        stream,
        stageKeyArn,
        alarmTopicArn: topicArn,
        location,
        bundlePath: join(props.bundleDir, consumerKey),
        invokeTargets: consumer.invokes.map(name),
        publishLedgerTableName: publishLedgerTableName(name(consumerKey)),
        observability,
        protect,
        idempotencyTableName: idempotencyTableName(name(consumerKey)),
        environment: (queueUrl, ledgerTable, idempotencyTable) => environment(consumerKey, queueUrl, ledgerTable, idempotencyTable),
      });
    }

    if (stage.businessAlarm) {
      const consumer = definition.consumers[stage.businessAlarm.consumer]!;
      new BusinessAlarm(this, 'business-alarm', {
        functionName: name(stage.businessAlarm.consumer),
        consumer,
        config: stage.businessAlarm,
        streamName: name(consumer.stream),
        alarmTopicArn: topicArn,
      });
    }

    const dashboard = new PipelineDashboard(this, 'dashboard', {
      name: prefix,
      region: stage.region,
      streamNames: Object.keys(definition.streams).map(name),
      consumers: Object.entries(this.consumers).map(([consumerKey, c]) => ({
        name: consumerKey,
        functionName: name(consumerKey),
        queueNames: [c.quarantineQueue.queueName, ...(c.onFailureQueue ? [c.onFailureQueue.queueName] : [])],
        businessNamespace: definition.consumers[consumerKey]?.metricsNamespace,
      })),
      plainFunctionNames: Object.keys(definition.functions).map(name),
      extraQueueNames: Object.values(this.functions).map((f) => f.onFailureQueue.queueName),
    });

    this.addOutputs(topicArn, dashboard.url);
    // Producers writing to a stream encrypted with the stage key need kms:GenerateDataKey on it.
    new TerraformOutput(this, 'stage-key-arn', { value: stageKeyArn });
  }

  /**
   * Remote state in S3 with Terraform's native lock file (S3 backend `use_lockfile`, Terraform >= 1.10;
   * the DynamoDB lock table is deprecated). cdktf 0.21's S3Backend has no property for it: an override.
   */
  private configureBackend(stage: StageConfig, prefix: string): void {
    const { backend } = stage;
    new S3Backend(this, {
      bucket: backend.bucket,
      key: `${backend.keyPrefix}/${prefix}.tfstate`,
      region: backend.region ?? stage.region,
      encrypt: true,
      ...(backend.kmsKeyId !== undefined ? { kmsKeyId: backend.kmsKeyId } : {}),
    });
    this.addOverride('terraform.backend.s3.use_lockfile', true);
  }

  /**
   * A stage still holding placeholder values (infra/placeholders.ts) synthesizes (for tests and
   * review) but cannot be planned: a `terraform_data` precondition fails `terraform plan` with the
   * list of values to replace, unless the variable allow_placeholder_stage is set (the offline
   * Terraform tests do). `npm run deploy` stops even earlier, before Terraform runs.
   */
  private guardPlaceholders(stage: StageConfig): void {
    const findings = placeholderFindings(stage);
    if (findings.length === 0) return;
    const allow = new TerraformVariable(this, PLACEHOLDER_VARIABLE, {
      type: 'bool',
      default: false,
      description: 'Plan a stage that still has placeholder values (offline tests only; never for a deploy)',
    });
    new DataResource(this, 'placeholder-guard', {
      input: { placeholders: findings.join('; ') },
      lifecycle: { precondition: [{ condition: allow.booleanValue, errorMessage: placeholderMessage(stage, findings) }] },
    });
  }

  /** A stage that runs with --enable-source-maps must ship the maps (`npm run build:lambdas -- --source-maps`). */
  private requireSourceMaps(definition: PipelineDefinition, bundleDir: string, stage: string): void {
    const missing = [...Object.keys(definition.consumers), ...Object.keys(definition.functions)].filter(
      (fn) => !existsSync(join(bundleDir, fn, `${BUNDLE_FILE}.map`)),
    );
    if (missing.length > 0) {
      throw new Error(`stage ${stage} sets "sourceMaps": true but the bundles of ${missing.join(', ')} have none: run \`npm run build:lambdas -- --source-maps\``);
    }
  }

  /** Settings AWS allows but that can block a shard or lose records silently: deploy, but say so. */
  private warnAboutUnsafeMapping(consumerKey: string, mapping: PipelineDefinition['consumers'][string]['mapping']): void {
    const warn = (message: string): void => Annotations.of(this).addWarning(`consumer ${consumerKey}: ${message}`);
    if (mapping.maximumRetryAttempts === -1) warn('maximumRetryAttempts is -1: a failing batch is retried until its records expire, blocking the shard');
    if (mapping.maximumRecordAgeInSeconds === -1) warn('maximumRecordAgeInSeconds is -1: records are retried until the stream retention expires');
    if (mapping.onFailureDestination === 'none') warn('no on-failure destination: discarded batches leave no trace to redrive');
    if (!mapping.reportBatchItemFailures) warn('reportBatchItemFailures is off: one bad record retries the whole batch');
  }

  /**
   * Lambda runs up to shards x ParallelizationFactor batches of a mapping at once
   * ("services-kinesis-parameters"); less reserved concurrency guarantees throttling.
   */
  private warnAboutConcurrency(
    consumerKey: string,
    consumer: PipelineDefinition['consumers'][string],
    stream: PipelineDefinition['streams'][string] | undefined,
  ): void {
    if (consumer.reservedConcurrency === undefined || stream?.capacity.mode !== 'PROVISIONED') return;
    const needed = stream.capacity.shardCount * consumer.mapping.parallelizationFactor;
    if (consumer.reservedConcurrency < needed) {
      Annotations.of(this).addWarning(
        `consumer ${consumerKey}: reservedConcurrency ${consumer.reservedConcurrency} < ${needed} (shards x parallelizationFactor): batches will be throttled`,
      );
    }
  }

  private addOutputs(topicArn: string, dashboardUrl: string): void {
    for (const [key, s] of Object.entries(this.streams)) {
      new TerraformOutput(this, `stream-${key}-name`, { value: s.stream.name, description: `Kinesis stream ${key}` });
      new TerraformOutput(this, `stream-${key}-arn`, { value: s.stream.arn });
    }
    for (const [key, c] of Object.entries(this.consumers)) {
      new TerraformOutput(this, `consumer-${key}-function-name`, { value: c.fn.function.functionName });
      new TerraformOutput(this, `consumer-${key}-quarantine-queue-url`, { value: c.quarantineQueue.queue.url });
      if (c.onFailureQueue) new TerraformOutput(this, `consumer-${key}-on-failure-queue-url`, { value: c.onFailureQueue.queue.url });
      new TerraformOutput(this, `consumer-${key}-mapping-uuid`, { value: c.mapping.uuid });
      if (c.publishLedger) new TerraformOutput(this, `consumer-${key}-publish-ledger-table`, { value: c.publishLedger.table.name });
      if (c.idempotency) new TerraformOutput(this, `consumer-${key}-idempotency-table`, { value: c.idempotency.table.name });
    }
    for (const [key, f] of Object.entries(this.functions)) {
      new TerraformOutput(this, `function-${key}-name`, { value: f.fn.function.functionName });
      new TerraformOutput(this, `function-${key}-on-failure-queue-url`, { value: f.onFailureQueue.queue.url });
      if (f.idempotency) new TerraformOutput(this, `function-${key}-idempotency-table`, { value: f.idempotency.table.name });
    }
    new TerraformOutput(this, 'alarm-topic-arn', { value: topicArn });
    new TerraformOutput(this, 'dashboard-url', { value: dashboardUrl });
  }
}
