/**
 * The zod schema of a pipeline definition: streams, consumers (functions fed by an event source
 * mapping), plain functions they invoke, and alarm thresholds. Mapping settings use AWS's own
 * names, defaults and limits (see ./limits.ts), so the local runner and the cdktf stack read the
 * same values AWS would apply.
 */
import * as z from 'zod';
import { FUNCTION_LIMITS, MAPPING_LIMITS, STREAM_LIMITS } from './limits';
import { compileDataPredicate, FilterPatternError } from '../kinesis/filter-pattern';
import { lifetimeProblems } from './record-lifetime';

const intBetween = (min: number, max: number) =>
  z.int({ error: 'must be an integer' }).min(min, { error: `must be between ${min} and ${max}` }).max(max, {
    error: `must be between ${min} and ${max}`,
  });

/** Lambda function names are 1-64 chars; stage prefixes are added by infra, so names stay short. */
const resourceName = z
  .string({ error: 'must be a string' })
  .regex(/^[a-z][a-z0-9-]{0,39}$/, { error: 'must be 1-40 characters of lower-case letters, digits or "-", starting with a letter' });

export const startingPositions = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] as const;
export type StartingPosition = (typeof startingPositions)[number];

/** Lambda event filtering: a pattern is a JSON object (serialised to at most 4096 characters). */
const filterPattern = z
  .record(z.string(), z.unknown(), { error: 'must be an event-filtering pattern object, e.g. {"data":{"type":["order.placed"]}}' })
  .refine((p) => JSON.stringify(p).length <= MAPPING_LIMITS.maxFilterPatternLength, {
    error: `must serialise to at most ${MAPPING_LIMITS.maxFilterPatternLength} characters (Lambda Filter.Pattern limit)`,
  });

/**
 * Filter patterns the consumer runtime applies to each user record after KPL deaggregation (same
 * syntax as Lambda's, on `data`; see consumers/runtime/record-filter.ts). They reach the function as
 * RECORD_FILTER_PATTERNS, and Lambda limits all environment variables together to 4 KB.
 */
const recordFilterPatterns = z
  .array(filterPattern)
  .max(MAPPING_LIMITS.maxFilters, { error: `must have at most ${MAPPING_LIMITS.maxFilters} filter patterns` })
  .refine((patterns) => JSON.stringify(patterns).length <= 2048, { error: 'must serialise to at most 2048 characters (they travel in the 4 KB Lambda environment)' })
  .superRefine((patterns, ctx) => {
    try {
      compileDataPredicate(patterns, 'recordFilterPatterns');
    } catch (error) {
      if (!(error instanceof FilterPatternError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message });
    }
  })
  .default([]);

const R = MAPPING_LIMITS;

export const mappingSchema = z
  .strictObject({
    batchSize: intBetween(R.batchSize.min, R.batchSize.max).default(R.batchSize.default),
    maximumBatchingWindowInSeconds: intBetween(
      R.maximumBatchingWindowInSeconds.min,
      R.maximumBatchingWindowInSeconds.max,
    ).default(R.maximumBatchingWindowInSeconds.default),
    startingPosition: z.enum(startingPositions, { error: `must be one of ${startingPositions.join(', ')}` }),
    /** Required with AT_TIMESTAMP (ISO-8601); AWS takes it as Unix seconds. */
    startingPositionTimestamp: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' }).optional(),
    parallelizationFactor: intBetween(R.parallelizationFactor.min, R.parallelizationFactor.max).default(
      R.parallelizationFactor.default,
    ),
    bisectBatchOnFunctionError: z.boolean({ error: 'must be true or false' }).default(false),
    maximumRetryAttempts: intBetween(R.maximumRetryAttempts.min, R.maximumRetryAttempts.max).default(
      R.maximumRetryAttempts.default,
    ),
    maximumRecordAgeInSeconds: z
      .int({ error: 'must be an integer' })
      .refine(
        (v) => v === R.maximumRecordAgeInSeconds.infinite || (v >= R.maximumRecordAgeInSeconds.min && v <= R.maximumRecordAgeInSeconds.max),
        { error: `must be -1 or between ${R.maximumRecordAgeInSeconds.min} and ${R.maximumRecordAgeInSeconds.max}` },
      )
      .default(R.maximumRecordAgeInSeconds.default),
    /** Absent (or 0) = no tumbling window. */
    tumblingWindowInSeconds: intBetween(R.tumblingWindowInSeconds.min, R.tumblingWindowInSeconds.max).optional(),
    filterPatterns: z
      .array(filterPattern)
      .max(R.maxFilters, { error: `must have at most ${R.maxFilters} filter patterns (Lambda quota per mapping)` })
      .default([]),
    reportBatchItemFailures: z.boolean({ error: 'must be true or false' }).default(false),
    /** On-failure destination: an SQS queue per consumer (deployed by infra, a file locally), or none (AWS default). */
    onFailureDestination: z.enum(['queue', 'none'], { error: 'must be "queue" or "none"' }).default('none'),
  })
  .superRefine((m, ctx) => {
    if (m.startingPosition === 'AT_TIMESTAMP' && m.startingPositionTimestamp === undefined) {
      ctx.addIssue({ code: 'custom', path: ['startingPositionTimestamp'], message: 'is required when startingPosition is AT_TIMESTAMP' });
    }
    if (m.startingPosition !== 'AT_TIMESTAMP' && m.startingPositionTimestamp !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['startingPositionTimestamp'], message: 'is only allowed when startingPosition is AT_TIMESTAMP' });
    }
  });

/** Thresholds for a consumer's alarms; absent values are derived by infra (see infra/ alarms). */
export const consumerAlarmsSchema = z
  .strictObject({
    /** IteratorAge (Maximum) in seconds; default derived from the stream's retention (a fraction of it). */
    iteratorAgeSeconds: z.int().positive({ error: 'must be a positive integer' }).optional(),
    /** Fraction of the stream retention the iterator may fall behind before alarming. */
    iteratorAgeFractionOfRetention: z.number().gt(0, { error: 'must be > 0' }).lt(1, { error: 'must be < 1' }).default(0.1),
    errorsPerPeriod: z.int().min(0, { error: 'must not be negative' }).default(0),
    throttlesPerPeriod: z.int().min(0, { error: 'must not be negative' }).default(0),
    /** Duration p99 alarm at this fraction of the function timeout. */
    durationFractionOfTimeout: z.number().gt(0, { error: 'must be > 0' }).max(1, { error: 'must be at most 1' }).default(0.8),
    periodSeconds: z.union([z.literal(60), z.literal(300), z.literal(900), z.literal(3600)], { error: 'must be 60, 300, 900 or 3600' }).default(300),
    evaluationPeriods: intBetween(1, 100).default(1),
  })
  .default({
    iteratorAgeFractionOfRetention: 0.1,
    errorsPerPeriod: 0,
    throttlesPerPeriod: 0,
    durationFractionOfTimeout: 0.8,
    periodSeconds: 300,
    evaluationPeriods: 1,
  });

export const streamAlarmsSchema = z
  .strictObject({
    writeThrottledRecordsPerPeriod: z.int().min(0).default(0),
    readThrottledPerPeriod: z.int().min(0).default(0),
    iteratorAgeFractionOfRetention: z.number().gt(0).lt(1).default(0.1),
    periodSeconds: z.union([z.literal(60), z.literal(300), z.literal(900), z.literal(3600)]).default(300),
  })
  .default({ writeThrottledRecordsPerPeriod: 0, readThrottledPerPeriod: 0, iteratorAgeFractionOfRetention: 0.1, periodSeconds: 300 });

export const capacitySchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({ mode: z.literal('ON_DEMAND') }),
    z.strictObject({ mode: z.literal('PROVISIONED'), shardCount: intBetween(1, 10_000) }),
  ],
  { error: 'must be {"mode":"ON_DEMAND"} or {"mode":"PROVISIONED","shardCount":N}' },
);

export const streamSchema = z.strictObject({
  capacity: capacitySchema,
  retentionHours: intBetween(STREAM_LIMITS.retentionHours.min, STREAM_LIMITS.retentionHours.max).default(
    STREAM_LIMITS.retentionHours.default,
  ),
  /**
   * KMS key for server-side encryption: "customer-managed" (infra creates a key per stage with
   * rotation), "alias/aws/kinesis" (the AWS-managed key), or any key alias / ARN.
   */
  kmsKey: z
    .string()
    .regex(/^(customer-managed|alias\/[a-zA-Z0-9/_-]{1,250}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+)$/, {
      error: 'must be "customer-managed", a KMS alias ("alias/...") or a KMS key/alias ARN',
    })
    .default('customer-managed'),
  /**
   * Whether producers may write KPL-aggregated records to the stream ("possible", the default: the
   * project's producer aggregates with `aggregation: true`). An aggregate's data is not JSON, so
   * Lambda's mapping-level filters (which read `data` as JSON) drop it whole, unseen: with
   * "possible", a consumer filters with `recordFilterPatterns` (after deaggregation) instead.
   */
  aggregatedRecords: z.enum(['possible', 'never'], { error: 'must be "possible" or "never"' }).default('possible'),
  shardLevelMetrics: z
    .array(
      z.enum([
        'IncomingBytes',
        'IncomingRecords',
        'OutgoingBytes',
        'OutgoingRecords',
        'WriteProvisionedThroughputExceeded',
        'ReadProvisionedThroughputExceeded',
        'IteratorAgeMilliseconds',
        'ALL',
      ]),
    )
    .default([]),
  alarms: streamAlarmsSchema,
});

const functionFields = {
  /** Handler entry file, relative to the project root, exporting `handler`. */
  entry: z.string().regex(/^[\w./-]+\.ts$/, { error: 'must be a project-relative .ts file path' }),
  description: z.string().max(256).optional(),
  memoryMb: intBetween(FUNCTION_LIMITS.memoryMb.min, FUNCTION_LIMITS.memoryMb.max).default(FUNCTION_LIMITS.memoryMb.default),
  timeoutSeconds: intBetween(FUNCTION_LIMITS.timeoutSeconds.min, FUNCTION_LIMITS.timeoutSeconds.max).default(
    FUNCTION_LIMITS.timeoutSeconds.default,
  ),
  /** Reserved concurrency; absent = unreserved. */
  reservedConcurrency: z.int().min(0, { error: 'must not be negative' }).optional(),
  /** Plain configuration for the function (never secrets: use Secrets Manager for those). */
  environment: z
    .record(z.string().regex(/^[a-zA-Z]\w*$/, { error: 'must be a valid environment variable name' }), z.string())
    .default({}),
  /** CloudWatch namespace the function may publish to (IAM condition cloudwatch:namespace). */
  metricsNamespace: z.string().min(1).max(255).optional(),
  /** Plain functions (keys of `functions`) this one invokes asynchronously. */
  invokes: z.array(resourceName).default([]),
  logRetentionDays: z
    .union(
      [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].map((d) => z.literal(d)),
      { error: 'must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ... days)' },
    )
    .default(30),
};

export const consumerSchema = z.strictObject({
  ...functionFields,
  /** Key of `streams` this consumer reads. */
  stream: resourceName,
  /** Read through an enhanced fan-out consumer (dedicated 2 MiB/s per shard) instead of shared polling. */
  enhancedFanOut: z.boolean().default(false),
  mapping: mappingSchema,
  /**
   * Records the runtime hands to the handlers: Lambda event-filtering patterns on `data`, ORed,
   * applied to each user record after KPL deaggregation. A record that matches none counts as
   * processed (as Lambda counts a filtered record); data that is not JSON is quarantined, never dropped.
   */
  recordFilterPatterns,
  alarms: consumerAlarmsSchema,
  /**
   * A durable publish ledger: a DynamoDB table (partition key `ledgerKey`, TTL on `expiresAt`, see
   * ./publish-ledger-table.ts) where the function claims a key with a conditional put (an in-progress
   * claim with a lease) before a side effect that has no idempotency key (e.g. PutMetricData), marks it
   * completed after the effect and releases it if the effect failed. Its name reaches the function as
   * PUBLISH_LEDGER_TABLE; the role may only GetItem, PutItem and DeleteItem on it.
   * Locally there is no table: the consumer keeps its own durable ledger under LOCAL_DATA_DIR.
   */
  publishLedger: z
    .boolean({ error: 'must be true or false (true: deploy a DynamoDB publish ledger table for this consumer)' })
    .default(false),
  /**
   * A durable idempotency store: a DynamoDB table (the publish ledger's shape, see
   * ./idempotency-table.ts) where the consumer runtime claims each event id IN_PROGRESS with a lease
   * before its handler runs and marks it COMPLETED after (so a retry on another container, or a redrive,
   * never repeats an effect), and counts failed deliveries per record (poison-record isolation). Its name
   * reaches the function as IDEMPOTENCY_TABLE; the role may only GetItem, PutItem, UpdateItem and
   * DeleteItem on it. Locally the runner creates the same table on dynalite.
   */
  idempotencyTable: z
    .boolean({ error: 'must be true or false (true: deploy a DynamoDB idempotency table for this consumer)' })
    .default(false),
  /**
   * Rule 13 (consumers/runtime/poison.ts): a record failing the same way on this many consecutive
   * deliveries while the records around it succeed is quarantined as a poison record (K). 0 turns the
   * isolation off. Reaches the function as POISON_RECORD_ATTEMPTS. Must be at most the mapping's
   * maximumRetryAttempts + 1: a record at the head of a retried batch gets exactly that many deliveries
   * before Lambda gives up and sends the whole batch to on-failure (bisection adds deliveries, but only
   * while a batch can still be split).
   */
  poisonRecordAttempts: z.int({ error: 'must be a whole number of deliveries' }).min(0, { error: 'must be 0 (off) or more' }).max(10_000).default(3),
});

export const plainFunctionSchema = z.strictObject({
  ...functionFields,
  /**
   * A durable idempotency store: a DynamoDB table (the consumer's shape, see ./idempotency-table.ts)
   * where the function claims the idempotency key of each asynchronous invocation IN_PROGRESS with a
   * lease before its effect and marks it COMPLETED after, so a duplicate delivery never repeats the
   * effect (Lambda asynchronous invocation may deliver an event more than once; a retried or redriven
   * upstream batch invokes again). Its name reaches the function as IDEMPOTENCY_TABLE; the role may
   * only GetItem, PutItem and DeleteItem on it. Locally the runner creates the same table on dynalite.
   */
  idempotencyTable: z
    .boolean({ error: 'must be true or false (true: deploy a DynamoDB idempotency table for this function)' })
    .default(false),
});

export const pipelineSchema = z
  .strictObject({
    /** Project name; prefixes every deployed resource (with the stage). */
    name: resourceName,
    streams: z.record(resourceName, streamSchema),
    consumers: z.record(resourceName, consumerSchema),
    functions: z.record(resourceName, plainFunctionSchema).default({}),
  })
  .superRefine((p, ctx) => {
    // Cross-field rules below read validated values: only on an otherwise clean definition (one problem, one message).
    const clean = ctx.issues.length === 0;
    const streamNames = Object.keys(p.streams);
    if (streamNames.length === 0) ctx.addIssue({ code: 'custom', path: ['streams'], message: 'must declare at least one stream' });
    for (const [name, consumer] of Object.entries(p.consumers)) {
      if (!(consumer.stream in p.streams)) {
        ctx.addIssue({
          code: 'custom',
          path: ['consumers', name, 'stream'],
          message: `must name a declared stream (${streamNames.join(', ') || 'none declared'})`,
        });
      }
      if (name in p.functions) {
        ctx.addIssue({ code: 'custom', path: ['consumers', name], message: 'must not share its name with a function (Lambda names are unique)' });
      }
      // Rule 13 needs K deliveries of the same record; a head record gets MaximumRetryAttempts + 1 ("Using
      // Lambda with Kinesis", error handling), after which the whole batch goes to on-failure.
      const retries = consumer.mapping.maximumRetryAttempts;
      if (clean && consumer.poisonRecordAttempts > 0 && retries >= 0 && consumer.poisonRecordAttempts > retries + 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['consumers', name, 'poisonRecordAttempts'],
          message:
            `is ${consumer.poisonRecordAttempts}, but mapping.maximumRetryAttempts ${retries} gives a failing record only ${retries + 1} deliveries: ` +
            `Lambda sends its whole batch (records that took effect included) to on-failure before the record counts as poison. ` +
            `Set mapping.maximumRetryAttempts to at least ${consumer.poisonRecordAttempts - 1} (or -1), or poisonRecordAttempts to at most ${retries + 1}`,
        });
      }
      // "Using event filtering with a Kinesis event source": Kinesis mappings filter only on `data`,
      // parsed as JSON; a KPL aggregate is not JSON, so Lambda drops it (and every record in it) unseen.
      if (clean && consumer.mapping.filterPatterns.length > 0 && p.streams[consumer.stream]?.aggregatedRecords === 'possible') {
        ctx.addIssue({
          code: 'custom',
          path: ['consumers', name, 'mapping', 'filterPatterns'],
          message:
            `filter on record data, but records of stream "${consumer.stream}" may be KPL-aggregated and Lambda drops every aggregate unseen (its data is not JSON): ` +
            `move the patterns to consumers.${name}.recordFilterPatterns (applied by the runtime after deaggregation, same syntax), ` +
            `or declare streams.${consumer.stream}.aggregatedRecords: "never" if no producer aggregates`,
        });
      }
    }
    if (clean) for (const problem of lifetimeProblems(p.streams, p.consumers)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    for (const [name, fn] of [...Object.entries(p.consumers), ...Object.entries(p.functions)]) {
      const section = name in p.consumers ? 'consumers' : 'functions';
      fn.invokes.forEach((target, index) => {
        if (!(target in p.functions)) {
          ctx.addIssue({ code: 'custom', path: [section, name, 'invokes', index], message: `must name a declared function, got "${target}"` });
        }
      });
    }
  });

export type PipelineDefinition = z.output<typeof pipelineSchema>;
export type PipelineDefinitionInput = z.input<typeof pipelineSchema>;
export type StreamDefinition = z.output<typeof streamSchema>;
export type ConsumerDefinition = z.output<typeof consumerSchema>;
export type FunctionDefinition = z.output<typeof plainFunctionSchema>;
export type MappingSettings = z.output<typeof mappingSchema>;
export type ConsumerAlarms = z.output<typeof consumerAlarmsSchema>;
export type StreamAlarms = z.output<typeof streamAlarmsSchema>;
