/**
 * Runtime options and their defaults. Code passes what the consumer decides (handlers, registry);
 * operators set the rest through the environment (pipeline/function-environment.ts sets
 * CONSUMER_NAME, METRICS_NAMESPACE, LOG_LEVEL, QUARANTINE_QUEUE_URL). Explicit options win over the environment.
 */
import type { DestinationStream } from 'pino';
import type { DurableRecordStore } from './durable-store';
import { createDynamoDbDurableStore, durableTableFromEnv } from './durable-store-from-env';
import { DEFAULT_MAX_HOPS } from '../../schemas/envelope';
import { compileRecordFilter, recordFilterFromEnv, type RecordFilter } from './record-filter';
import type { EmfWriter } from '../../telemetry/emf';
import type { Logger } from '../../telemetry/logger';
import type { EventValidator } from './decode';
import { RuntimeConfigError } from './errors';
import { localQuarantineFile, FileQuarantineSink } from './file-quarantine-sink';
import { DEFAULT_IDEMPOTENCY_ENTRIES, LruIdempotencyStore, type IdempotencyStore } from './idempotency';
import type { QuarantineSink } from './quarantine';
import { DEFAULT_MAX_JSON_DEPTH } from './safe-json';
import { SqsQuarantineSink } from './sqs-quarantine-sink';
import type { AnyEvent } from './types';

/** Default namespace of the runtime's EMF metrics when METRICS_NAMESPACE is not set. */
export const DEFAULT_METRICS_NAMESPACE = 'KinesisPipeline/Consumers';
/** Default number of partition keys processed concurrently (async handlers). */
export const DEFAULT_CONCURRENCY = 10;
/** Default time kept free before the Lambda timeout (capped at half the invocation's remaining time). */
export const DEFAULT_TIMEOUT_MARGIN_MS = 3000;
/** Default K of rule 13: consecutive identical failed deliveries after which an isolated record is quarantined. */
export const DEFAULT_POISON_ATTEMPTS = 3;

/** EMF metrics settings. */
export interface MetricsOptions {
  /** CloudWatch namespace. Default: env METRICS_NAMESPACE, else `KinesisPipeline/Consumers`. */
  namespace?: string;
  /** Extra dimensions added to `ConsumerName` (low cardinality only, e.g. `{ Stage: 'prod' }`). */
  dimensions?: Readonly<Record<string, string>>;
  /** Where EMF lines go. Default: stdout (the Lambda log stream). */
  writer?: EmfWriter;
}

/** Options shared by `createKinesisHandler` and `createKinesisWindowHandler`. */
export interface ConsumerRuntimeOptions<E extends AnyEvent> {
  /** Event contracts to validate against (e.g. `registry` from schemas/). */
  registry: EventValidator<E>;
  /** Consumer name in logs, metrics and quarantine records. Default: env CONSUMER_NAME, else AWS_LAMBDA_FUNCTION_NAME. */
  consumerName?: string;
  /**
   * Where permanent failures go. Default from the environment: QUARANTINE_QUEUE_URL -> SqsQuarantineSink,
   * else LOCAL_DATA_DIR -> FileQuarantineSink (`<dir>/quarantine/<consumer>.ndjson`); neither -> error at creation.
   */
  quarantine?: QuarantineSink;
  /**
   * Duplicate detection by envelope id; `false` disables it. Default for createKinesisHandler: LruIdempotencyStore
   * (env IDEMPOTENCY_MAX_ENTRIES, else 50,000); for createKinesisWindowHandler: none (see there).
   */
  idempotency?: IdempotencyStore | false;
  /**
   * The durable level (durable-store.ts): event claims (IN_PROGRESS with a lease, then COMPLETED) behind
   * the first level, and the poison-record attempt counters. `false` disables it. Default: a DynamoDB
   * store when env IDEMPOTENCY_TABLE names a table (created on the first invocation, with a dynamic
   * import), else none (claims stay in this container; attempts are counted in memory).
   * Window handlers use it for attempt counters only (their duplicates are skipped through the state).
   * A function is called once, on the first invocation (e.g. to load a client lazily).
   */
  durableStore?: DurableRecordStore | (() => Promise<DurableRecordStore>) | false;
  /**
   * Whether handling this (validated) event causes an effect that must happen once: the durable store
   * claims only such events. Default: every event. An event for which it returns false is handled again
   * on a redelivery that misses the first level, so its handler must cause no external effect for it
   * (order-review: an order that matches no review rule sends nothing). Two DynamoDB requests per record
   * become two per effect: idempotency guards effects, not records. Must not throw.
   */
  hasEffect?: (event: E) => boolean;
  /**
   * Rule 13: a record failing the same way on this many consecutive deliveries, isolated (other records
   * succeeded), is quarantined as a poison record. 0 disables. Default: env POISON_RECORD_ATTEMPTS, else 3.
   * Keep it at most the mapping's MaximumRetryAttempts + 1, or the mapping gives up first.
   */
  poisonAttempts?: number;
  /** Partition keys processed concurrently. Default: env CONSUMER_CONCURRENCY, else 10. */
  concurrency?: number;
  /** Stop starting records when less than this remains before the timeout. Default: env TIMEOUT_MARGIN_MS, else 3000. */
  timeoutMarginMs?: number;
  /** Loop guard: events with `hops` above this are quarantined. Default: env MAX_HOPS, else DEFAULT_MAX_HOPS (5). */
  maxHops?: number;
  /** Maximum JSON nesting depth of a record. Default 32. */
  maxJsonDepth?: number;
  /**
   * Filter patterns on `data` applied after KPL deaggregation (./record-filter.ts). Default: env
   * RECORD_FILTER_PATTERNS (set from the definition's `recordFilterPatterns`), else none.
   */
  recordFilterPatterns?: readonly Record<string, unknown>[];
  /** Logger to use; default `createLogger({ name: consumerName, redact })` (level from env LOG_LEVEL). */
  logger?: Logger;
  /** Extra pino redaction paths (personal data), added to telemetry/logger's defaults. */
  redact?: readonly string[];
  /** Destination of the default logger (tests read lines back). */
  logDestination?: DestinationStream;
  /** EMF metrics; `false` disables them. */
  metrics?: MetricsOptions | false;
  /** Clock in ms (tests). Default Date.now. */
  now?: () => number;
}

/** Options after defaults and environment were applied. */
export interface ResolvedSettings {
  readonly consumerName: string;
  readonly registry: EventValidator<AnyEvent>;
  readonly quarantine: QuarantineSink;
  readonly idempotency: IdempotencyStore | undefined;
  /** The durable store, or a promise of it (created on first use), or none. */
  readonly durableStore: DurableRecordStore | (() => Promise<DurableRecordStore>) | undefined;
  /** Events the durable store claims (options.hasEffect); undefined = all. */
  readonly hasEffect: ((event: AnyEvent) => boolean) | undefined;
  readonly poisonAttempts: number;
  readonly concurrency: number;
  readonly timeoutMarginMs: number;
  readonly maxHops: number;
  readonly maxJsonDepth: number;
  /** Compiled record filter; undefined = every record goes to the handlers. */
  readonly recordFilter: RecordFilter | undefined;
  readonly metrics: Required<MetricsOptions> | undefined;
  readonly now: () => number;
}

type Env = Readonly<Record<string, string | undefined>>;

function intFromEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RuntimeConfigError(`environment variable ${name}="${raw}" must be an integer between ${min} and ${max}`);
  }
  return value;
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RuntimeConfigError(`option ${name} must be an integer between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** The quarantine sink the environment configures, or an error saying how to configure one. */
export function quarantineSinkFromEnv(consumerName: string, env: Env = process.env): QuarantineSink {
  const queueUrl = env['QUARANTINE_QUEUE_URL'];
  if (queueUrl !== undefined && queueUrl !== '') {
    const maxMessageBytes = intFromEnv(env, 'QUARANTINE_MAX_MESSAGE_BYTES', 262_144, 1024, 1_048_576);
    return new SqsQuarantineSink({ queueUrl, maxMessageBytes });
  }
  const dataDir = env['LOCAL_DATA_DIR'];
  if (dataDir !== undefined && dataDir !== '') return new FileQuarantineSink(localQuarantineFile(dataDir, consumerName));
  throw new RuntimeConfigError(
    'no quarantine sink: set QUARANTINE_QUEUE_URL (SQS) or LOCAL_DATA_DIR (local file), or pass options.quarantine',
  );
}

/** A factory of the DynamoDB store when IDEMPOTENCY_TABLE is set (the value is checked now, at creation). */
function durableStoreFactoryFromEnv(env: Env): (() => Promise<DurableRecordStore>) | undefined {
  const table = durableTableFromEnv(env);
  return table === undefined ? undefined : () => createDynamoDbDurableStore(table);
}

/** Apply defaults and environment to the options; throws RuntimeConfigError naming a bad value. */
export function resolveSettings<E extends AnyEvent>(options: ConsumerRuntimeOptions<E>, env: Env = process.env): ResolvedSettings {
  if (typeof options.registry?.safeParse !== 'function') throw new RuntimeConfigError('options.registry must be an EventRegistry');
  const consumerName = options.consumerName ?? env['CONSUMER_NAME'] ?? env['AWS_LAMBDA_FUNCTION_NAME'];
  if (consumerName === undefined || consumerName === '') {
    throw new RuntimeConfigError('consumer name missing: pass options.consumerName or set CONSUMER_NAME');
  }
  const metrics =
    options.metrics === false
      ? undefined
      : {
          namespace: options.metrics?.namespace ?? env['METRICS_NAMESPACE'] ?? DEFAULT_METRICS_NAMESPACE,
          dimensions: options.metrics?.dimensions ?? {},
          writer: options.metrics?.writer ?? ((line: string) => void process.stdout.write(line)),
        };
  return {
    consumerName,
    registry: options.registry as EventValidator<AnyEvent>,
    quarantine: options.quarantine ?? quarantineSinkFromEnv(consumerName, env),
    idempotency:
      options.idempotency === false
        ? undefined
        : (options.idempotency ??
          new LruIdempotencyStore(intFromEnv(env, 'IDEMPOTENCY_MAX_ENTRIES', DEFAULT_IDEMPOTENCY_ENTRIES, 1, 10_000_000))),
    durableStore: options.durableStore === false ? undefined : (options.durableStore ?? durableStoreFactoryFromEnv(env)),
    hasEffect: options.hasEffect as ((event: AnyEvent) => boolean) | undefined,
    poisonAttempts: checkInt('poisonAttempts', options.poisonAttempts ?? intFromEnv(env, 'POISON_RECORD_ATTEMPTS', DEFAULT_POISON_ATTEMPTS, 0, 10_000), 0, 10_000),
    concurrency: checkInt('concurrency', options.concurrency ?? intFromEnv(env, 'CONSUMER_CONCURRENCY', DEFAULT_CONCURRENCY, 1, 10_000), 1, 10_000),
    timeoutMarginMs: checkInt(
      'timeoutMarginMs',
      options.timeoutMarginMs ?? intFromEnv(env, 'TIMEOUT_MARGIN_MS', DEFAULT_TIMEOUT_MARGIN_MS, 0, 900_000),
      0,
      900_000,
    ),
    maxHops: checkInt('maxHops', options.maxHops ?? intFromEnv(env, 'MAX_HOPS', DEFAULT_MAX_HOPS, 0, 1000), 0, 1000),
    maxJsonDepth: checkInt('maxJsonDepth', options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH, 2, 10_000),
    recordFilter: options.recordFilterPatterns !== undefined ? compileRecordFilter(options.recordFilterPatterns) : recordFilterFromEnv(env),
    metrics,
    now: options.now ?? Date.now,
  };
}
