/**
 * A stage file (`stages/<stage>.json`): where one deployment of the pipeline lives (account, region,
 * state backend) and how it differs from the pipeline definition (shard count, retention, memory,
 * alarm thresholds, alarm e-mail, KMS key). Configuration, not code: validated here with zod so a
 * typo fails `npm run synth` with the file, the field path and the rule.
 *
 * Override values are checked twice: for shape here, and for AWS limits by the pipeline definition's
 * own schema once they are applied (see ./apply-stage.ts), so a stage can never deploy a setting the
 * definition would reject.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as z from 'zod';
import { capacitySchema } from '../pipeline';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, { error: 'must be a pipeline resource name' });
const optionalInt = z.int({ error: 'must be an integer' }).optional();
const fraction = z.number().gt(0, { error: 'must be > 0' }).lt(1, { error: 'must be < 1' }).optional();
const period = z.union([z.literal(60), z.literal(300), z.literal(900), z.literal(3600)], { error: 'must be 60, 300, 900 or 3600' });

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Partial overrides of a stream's settings; limits are enforced by the pipeline definition schema. */
const streamOverrideSchema = z.strictObject({
  /** Shorthand for `capacity: {mode: "PROVISIONED", shardCount}`. */
  shardCount: optionalInt,
  capacity: capacitySchema.optional(),
  retentionHours: optionalInt,
  /** "customer-managed" (a key per stage, rotated), "alias/aws/kinesis", or any KMS alias / key ARN. */
  kmsKey: z.string().optional(),
  shardLevelMetrics: z.array(z.string()).optional(),
  alarms: z
    .strictObject({
      writeThrottledRecordsPerPeriod: optionalInt,
      readThrottledPerPeriod: optionalInt,
      iteratorAgeFractionOfRetention: fraction,
      periodSeconds: period.optional(),
    })
    .optional(),
});

const functionOverrideFields = {
  memoryMb: optionalInt,
  timeoutSeconds: optionalInt,
  reservedConcurrency: optionalInt,
  logRetentionDays: optionalInt,
  /** Merged over the definition's environment (stage-specific configuration, never secrets). */
  environment: z.record(z.string(), z.string()).optional(),
};

const consumerOverrideSchema = z.strictObject({
  ...functionOverrideFields,
  alarms: z
    .strictObject({
      iteratorAgeSeconds: optionalInt,
      iteratorAgeFractionOfRetention: fraction,
      errorsPerPeriod: optionalInt,
      throttlesPerPeriod: optionalInt,
      durationFractionOfTimeout: z.number().optional(),
      periodSeconds: period.optional(),
      evaluationPeriods: optionalInt,
    })
    .optional(),
});

const functionOverrideSchema = z.strictObject(functionOverrideFields);

/**
 * The business alarm: a consumer's business metric falling to zero while its stream has traffic.
 * Namespace comes from the consumer's `metricsNamespace`; the period from its tumbling window.
 */
export const businessAlarmSchema = z.strictObject({
  consumer: name,
  /** Metric the consumer publishes once per window (e.g. orders placed). */
  metricName: z.string().min(1).max(255),
  /** Dimensions exactly as the consumer publishes them (CloudWatch alarms match dimensions exactly). */
  dimensions: z.record(z.string(), z.string()).default({}),
  /** Consecutive periods of "traffic but no orders" before alarming. */
  evaluationPeriods: z.int().min(1).max(100).default(3),
  /** Stream records per period that count as traffic (IncomingRecords Sum must exceed this). */
  minIncomingRecords: z.int().min(0).default(0),
});

/**
 * Terraform state in S3, locked with Terraform's native S3 lock file (`use_lockfile`, Terraform >= 1.10;
 * the DynamoDB lock table is deprecated by the S3 backend). Every stage has one: a local state file has
 * no locking and no sharing, and losing it orphans the stage.
 */
const s3BackendSchema = z.strictObject({
  type: z.literal('s3', { error: 'must be "s3" (every stage keeps its state in S3, locked with a lock file)' }),
  /** The bucket must exist first, with versioning on (docs/deploy.md). */
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name (3-63 lower-case letters, digits, "." or "-")' }),
  /** Defaults to the stage region. */
  region: z.string().optional(),
  /** State object key prefix; the key is `<prefix>/<stack>.tfstate` (the lock file is `<key>.tflock`). */
  keyPrefix: z.string().default('cdktf'),
  /** SSE-KMS key for the state object (default: the bucket's encryption). */
  kmsKeyId: z.string().optional(),
}, { error: 'is required: every stage keeps its Terraform state in S3, e.g. {"type": "s3", "bucket": "<state bucket>"}' });

export const systemLogLevels = ['DEBUG', 'INFO', 'WARN'] as const;

export const stageConfigSchema = z.strictObject({
  /** Stage name; the stack is `<pipeline>-<stage>` (e.g. `orders-dev`). Matches the file name. */
  stage: z.string().regex(/^[a-z][a-z0-9]{0,9}$/, { error: 'must be 1-10 lower-case letters or digits, starting with a letter' }),
  region: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, { error: 'must be an AWS region code, e.g. eu-west-1' }),
  /** The only account this stage may deploy to (the provider refuses any other credentials). */
  account: z.string().regex(/^\d{12}$/, { error: 'must be a 12-digit AWS account id' }),
  logLevel: z.enum(logLevels).default('info'),
  /** Extra default tags (Project, Stage and ManagedBy are always set). */
  tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
  /** E-mail subscribed to the alarm topic (the recipient must confirm the subscription). */
  alarmEmail: z.email({ error: 'must be an e-mail address' }).optional(),
  /** Terraform state: S3 with a lock file (required: see s3BackendSchema). */
  backend: s3BackendSchema,
  /**
   * `prevent_destroy` on the stream, the KMS key, the queues and the tables, DynamoDB deletion
   * protection and point-in-time recovery. On unless the stage file turns it off (dev does).
   */
  protectStatefulResources: z.boolean({ error: 'must be true or false' }).default(true),
  /** Lambda X-Ray tracing mode: "Active" samples and records traces (prod), "PassThrough" only forwards a caller's. */
  tracing: z.enum(['Active', 'PassThrough'], { error: 'must be "Active" or "PassThrough"' }).default('PassThrough'),
  /** Lambda's own log lines (START, END, REPORT...), JSON log format; application logs follow `logLevel`. */
  systemLogLevel: z.enum(systemLogLevels, { error: `must be one of ${systemLogLevels.join(', ')}` }).default('INFO'),
  /**
   * Debug choice: ship source maps and run with NODE_OPTIONS=--enable-source-maps (readable stack
   * traces, at 10-25 ms more init CPU and a bigger zip). Needs `npm run build:lambdas -- --source-maps`.
   */
  sourceMaps: z.boolean({ error: 'must be true or false' }).default(false),
  /** Days KMS waits before deleting the stage key after destroy (7..30). */
  kmsDeletionWindowDays: z.int().min(7).max(30).default(30),
  streams: z.record(name, streamOverrideSchema).default({}),
  consumers: z.record(name, consumerOverrideSchema).default({}),
  functions: z.record(name, functionOverrideSchema).default({}),
  businessAlarm: businessAlarmSchema.optional(),
});

export type StageConfig = z.output<typeof stageConfigSchema>;
export type StageConfigInput = z.input<typeof stageConfigSchema>;
export type BusinessAlarmConfig = z.output<typeof businessAlarmSchema>;

export class StageConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid stage configuration ${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'StageConfigError';
  }
}

/** Validate a parsed stage object; `source` names it in errors (usually the file path). */
export function parseStageConfig(input: unknown, source: string): StageConfig {
  const result = stageConfigSchema.safeParse(input);
  if (!result.success) {
    throw new StageConfigError(
      source,
      result.error.issues.map((issue) => {
        const path = issue.path.map(String).join('.');
        if (issue.code === 'unrecognized_keys') return `${path ? `${path}.` : ''}${issue.keys.join(', ')}: is not a known setting`;
        return path ? `${path}: ${issue.message}` : issue.message;
      }),
    );
  }
  return result.data;
}

/** Read and validate `stages/<stage>.json`; the `stage` field must match the file name. */
export function loadStageConfig(file: string): StageConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new StageConfigError(file, [`cannot be read as JSON: ${(error as Error).message}`]);
  }
  const config = parseStageConfig(raw, file);
  const expected = basename(file, '.json');
  if (config.stage !== expected) throw new StageConfigError(file, [`stage: must match the file name ("${expected}"), got "${config.stage}"`]);
  return config;
}

/** Every `*.json` stage file of a folder, sorted by name. */
export function loadStageConfigs(dir: string): StageConfig[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new StageConfigError(dir, ['contains no stage files (*.json)']);
  return files.map((f) => loadStageConfig(join(dir, f)));
}
