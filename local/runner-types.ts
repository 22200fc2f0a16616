/** Options, views and results of the local pipeline runner (see pipeline-runner.ts). */
import type { RunHealth } from './run-health';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { PipelineDefinition } from '../pipeline/definition-schema';
import type { Logger } from '../telemetry/logger';
import type { ConsumerAccount } from './accounting';
import type { BusinessFigures } from './business-figures';
import type { DataDir } from './data-dir';
import type { EsmStats, EsmTiming } from './esm/index';
import type { KinesisEngineName } from './kinesis-engine';
import type { LocalLambdaService } from './lambda/local-lambda-service';
import type { RunnerStateFile } from './runner-state-file';
import type { LocalStream } from './streams';
import type { BacklogCount } from './stream-backlog';

export interface LocalPipelineOptions {
  /** Default: the project's pipeline definition (pipeline/pipeline.ts). */
  definition?: PipelineDefinition;
  /** Folder the definition's `entry` paths are relative to (default: the project root). */
  projectRoot?: string;
  /** Default `<projectRoot>/.data`. */
  dataDir?: string;
  /** Embedded engine (default kinesalite); ignored when `endpoint` is set. */
  kinesis?: KinesisEngineName;
  /** An existing Kinesis endpoint (LocalStack, AWS) instead of an embedded engine. */
  endpoint?: string;
  /**
   * kinesalite only: keep streams and records under `<dataDir>/kinesalite` across restarts, and the
   * mappings' checkpoints under `<dataDir>/checkpoints` (also kept with `endpoint`), so a restart resumes.
   */
  persistStream?: boolean;
  region?: string;
  /** Synthetic events per second and stream (default 50; 0 = no upstream). */
  rate?: number;
  /** Fraction of synthetic events that are invalid (default 0.02). */
  invalidFraction?: number;
  /** Stop producing after this many events per stream (default: unlimited). */
  events?: number;
  seed?: number;
  /** LOG_LEVEL of the functions (default: the definition's, else warn). */
  functionLogLevel?: string;
  /** Asynchronous invocation retry delays (default Lambda's 60 s and 120 s). */
  asyncRetryDelaysMs?: readonly number[];
  /** At stop, wait out those delays instead of retrying at once (default false: a stop never waits minutes). */
  waitForAsyncRetriesAtStop?: boolean;
  /** Init phase limit of the local functions (default Lambda's 10 s); tests on a busy machine raise it. */
  lambdaInitTimeoutMs?: number;
  /** Timing knobs of the event source mappings (default: AWS-like). */
  esmTiming?: Partial<EsmTiming>;
  /** How often runner.json and the counters from files are refreshed (default 1000 ms). */
  refreshIntervalMs?: number;
  /** Address of the local dashboard serving this run, recorded in runner.json. */
  dashboardUrl?: string;
  /** The runner's own log (default: `<dataDir>/logs/runner.log`). */
  logger?: Logger;
}

export interface StreamView {
  name: string;
  arn: string;
  shards: number;
  putRate: number;
  records: number;
  invalid: number;
  failedPuts: number;
}

export interface ConsumerView {
  name: string;
  stream: string;
  state: EsmStats['state'];
  batchesPerSecond: number;
  recordsPerSecond: number;
  iteratorAgeMs: number;
  millisBehindLatest: number;
  maxIteratorAgeMs: number;
  inFlight: number;
  retries: number;
  invocationErrors: number;
  processed: number;
  filtered: number;
  quarantined: number;
  /** Of `quarantined`, events the upstream produced valid (never expected: a consumer bug). */
  validQuarantined: number;
  /**
   * Quarantine lines this run has read (its records, foreign ones, repeats): beyond `quarantined -
   * validQuarantined` (its deliberately invalid events) they are unexpected (ops status judges them).
   */
  quarantineLinesRead: number;
  onFailure: number;
  duplicatesSkipped: number;
  missing: number;
  /** Checkpoint writes failing right now: since when and why (absent when they are fine or not kept). */
  checkpointsUnsaved?: { since: string; failedWrites: number; lastError: string };
}

export interface FunctionView {
  name: string;
  invocations: number;
  errors: number;
  timeouts: number;
  crashes: number;
  inFlight: number;
  sandboxes: number;
  asyncAccepted: number;
  asyncPending: number;
  asyncFailed: number;
}

export interface RunnerSnapshot {
  at: string;
  uptimeMs: number;
  state: RunnerStateFile['state'];
  /** Seed of the synthetic upstream (`--seed` replays the run's events). */
  seed: number;
  pipeline: string;
  kinesisEngine: string;
  kinesisEndpoint: string;
  lambdaEndpoint: string;
  dataDir: string;
  streams: StreamView[];
  consumers: ConsumerView[];
  functions: FunctionView[];
  business: BusinessFigures[];
}

export interface ConsumerSummary extends ConsumerAccount, BacklogCount {
  /** This run's records are accounted for (ConsumerAccount) and so is the backlog of earlier runs (backlogCheckpointed = backlogAtStart). */
  accounted: boolean;
  duplicatesSkipped: number;
  maxIteratorAgeMs: number;
  /** RecordsProcessed minus RecordsFiltered, summed from the consumer's EMF documents (its own count of handled records). */
  reportedProcessed: number;
}

export interface RunSummary {
  durationMs: number;
  /** Seed of the synthetic upstream (`--seed` replays the run's events). */
  seed: number;
  produced: number;
  producedValid: number;
  producedInvalid: number;
  /** Puts the producer gave up on (never written, so not expected downstream). */
  failedPuts: number;
  processed: number;
  quarantined: number;
  filtered: number;
  onFailure: number;
  duplicatesSkipped: number;
  missing: number;
  /**
   * Records already on the stream when this run started that a consumer had not checkpointed (an
   * earlier run stopped before it caught up; `--persist-stream`, `--endpoint`), summed over consumers,
   * and how many of them the consumers have checkpointed since (processed, filtered, quarantined or
   * sent to on-failure). Not part of `produced`/`processed`, which count this run's upstream.
   */
  backlogAtStart: number;
  backlogCheckpointed: number;
  maxIteratorAgeMs: number;
  consumers: ConsumerSummary[];
  /** Every produced record (and every record of the backlog) is processed, filtered, quarantined or reported on-failure by every consumer of its stream. */
  accounted: boolean;
  /** Function crashes and timeouts, checkpoint writes, and the problems that fail the run (local/run-health.ts). */
  health: RunHealth;
}

export interface LocalPipeline {
  readonly kinesisEndpoint: string;
  readonly lambdaEndpoint: string;
  readonly region: string;
  readonly dataDir: DataDir;
  readonly streams: ReadonlyMap<string, LocalStream>;
  readonly lambda: LocalLambdaService;
  readonly kinesis: KinesisClient;
  snapshot(): RunnerSnapshot;
  /** Resolves true once the upstream is done (`events` reached or stopped) and every record is accounted for. */
  waitUntilAccounted(timeoutMs: number): Promise<boolean>;
  /** Stop producing, drain the consumers (up to `drainTimeoutMs`, default 60 s), stop everything, summarise. */
  stop(options?: { drainTimeoutMs?: number }): Promise<RunSummary>;
}
