/**
 * Test harness for the local event source mapping: a kinesalite stream, scripted functions, an
 * in-memory on-failure sink, the activity log, fast timing. Tests assert what AWS would produce:
 * the exact invocations (records per event), checkpoints and on-failure records.
 */
import {
  DescribeStreamSummaryCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  SplitShardCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { afterEach, beforeEach } from 'vitest';
import { createKinesisClient, ensureStream, listAllShards, waitForStreamActive } from '../../kinesis/client';
import { LocalEventSourceMapping } from '../../local/esm';
import type { CheckpointStore, EsmActivity, EsmClock, EsmStats, InvokeOutcome, KinesisEventRecord, OnFailureRecord, OnFailureSink } from '../../local/esm';
import { mappingSchema, type MappingSettings } from '../../pipeline/definition-schema';
import { createLogger, type Logger } from '../../telemetry/logger';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';

export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:test-consumer';
export const FAST_TIMING = {
  pollIntervalMs: 20,
  busyPollIntervalMs: 5,
  shardDiscoveryIntervalMs: 40,
  retryBaseDelayMs: 5,
  retryMaxDelayMs: 20,
  readErrorBackoffMs: 20,
};

export function settings(input: Partial<Record<keyof MappingSettings, unknown>>): MappingSettings {
  return mappingSchema.parse({ startingPosition: 'TRIM_HORIZON', ...input });
}

export interface PutResult {
  sequenceNumber: string;
  shardId: string;
  partitionKey: string;
}

export class StreamFixture {
  private constructor(
    readonly engine: EmbeddedKinesis,
    readonly client: KinesisClient,
    readonly streamName: string,
    readonly streamArn: string,
  ) {}

  static async start(shardCount = 1, streamName = 'esm-test'): Promise<StreamFixture> {
    const engine = await startKinesalite();
    const client = createKinesisClient({ endpoint: engine.endpoint, region: 'us-east-1' });
    await ensureStream(client, { name: streamName, shardCount, pollMs: 10 });
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    return new StreamFixture(engine, client, streamName, summary.StreamDescriptionSummary?.StreamARN ?? '');
  }

  /** Put records one by one (in order), returning their sequence numbers. */
  async put(items: Array<{ key?: string; data: unknown }>): Promise<PutResult[]> {
    const results: PutResult[] = [];
    for (const [index, item] of items.entries()) {
      const partitionKey = item.key ?? `key-${index}`;
      const data = item.data instanceof Uint8Array ? item.data : Buffer.from(typeof item.data === 'string' ? item.data : JSON.stringify(item.data));
      const out = await this.client.send(new PutRecordCommand({ StreamName: this.streamName, PartitionKey: partitionKey, Data: data }));
      results.push({ sequenceNumber: out.SequenceNumber ?? '', shardId: out.ShardId ?? '', partitionKey });
    }
    return results;
  }

  /** Put records in one PutRecords call (they arrive together: same tumbling window). */
  async putTogether(items: Array<{ key?: string; data: unknown }>): Promise<PutResult[]> {
    const entries = items.map((item, index) => ({
      PartitionKey: item.key ?? `key-${index}`,
      Data: Buffer.from(JSON.stringify(item.data)),
    }));
    const out = await this.client.send(new PutRecordsCommand({ StreamName: this.streamName, Records: entries }));
    if (out.FailedRecordCount) throw new Error(`PutRecords failed for ${out.FailedRecordCount} records`);
    return (out.Records ?? []).map((r, index) => ({ sequenceNumber: r.SequenceNumber ?? '', shardId: r.ShardId ?? '', partitionKey: entries[index]!.PartitionKey }));
  }

  /** Splits the first shard at the middle of the hash key range and waits for the stream; returns the parent. */
  async splitFirstShard(): Promise<Shard> {
    const [parent] = await listAllShards(this.client, this.streamName);
    await this.client.send(new SplitShardCommand({ StreamName: this.streamName, ShardToSplit: parent!.ShardId!, NewStartingHashKey: (2n ** 127n).toString() }));
    await waitForStreamActive(this.client, this.streamName, { pollMs: 10 });
    return parent!;
  }

  /** Merges the first two (adjacent) shards and waits for the stream; returns the two parents. */
  async mergeFirstTwoShards(): Promise<[Shard, Shard]> {
    const [a, b] = await listAllShards(this.client, this.streamName);
    await this.client.send(new MergeShardsCommand({ StreamName: this.streamName, ShardToMerge: a!.ShardId!, AdjacentShardToMerge: b!.ShardId! }));
    await waitForStreamActive(this.client, this.streamName, { pollMs: 10 });
    return [a!, b!];
  }

  async stop(): Promise<void> {
    this.client.destroy();
    await this.engine.stop();
  }
}

export interface Invocation {
  event: Record<string, unknown> & { Records: KinesisEventRecord[] };
  sequenceNumbers: string[];
  /** JSON-decoded data of each record (undefined when not JSON). */
  data: unknown[];
}

export type Script = (invocation: Invocation, index: number) => InvokeOutcome | Promise<InvokeOutcome>;

export const ok = (response: unknown = null): InvokeOutcome => ({ ok: true, response, durationMs: 1 });
export const thrown = (message = 'boom'): InvokeOutcome => ({ ok: false, errorType: 'Unhandled', errorMessage: message, durationMs: 1 });

function decode(record: KinesisEventRecord): unknown {
  try {
    return JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

export class MemorySink implements OnFailureSink {
  readonly records: OnFailureRecord[] = [];
  async write(record: OnFailureRecord): Promise<void> {
    this.records.push(record);
  }
}

/** "now" pinned by the test (records' ages are then exact); Date.now() until it is pinned. */
export class PinnedClock implements EsmClock {
  constructor(public pinned?: number) {}
  now(): number {
    return this.pinned ?? Date.now();
  }
}

/** A JSON log line of the mapping, as an operator reads it. */
export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** A debug-level logger whose JSON lines are kept in memory (for tests asserting log lines). */
export function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({ name: 'esm-test', level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } });
  return { logger, lines };
}

export const linesWith = (lines: readonly LogLine[], msg: string): LogLine[] => lines.filter((line) => line.msg === msg);

export class OffsetClock implements EsmClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

export interface RunningMapping {
  mapping: LocalEventSourceMapping;
  invocations: Invocation[];
  activity: EsmActivity[];
  sink: MemorySink;
  /** Checkpoint activities, in order (a quiesce sentinel's left out). */
  checkpoints(): string[];
  /** The mapping's stats without what quiesce sentinels added (records read, processed or filtered, invocations). */
  stats(): EsmStats;
  /** Internal to quiesce: the sentinels' sequence numbers and invocations. */
  readonly sentinels: { sequenceNumbers: Set<string>; invocations: number; records: number };
  stop(): Promise<void>;
}

export async function runMapping(
  fixture: StreamFixture,
  mappingSettings: MappingSettings,
  script: Script,
  extra: {
    clock?: EsmClock;
    timing?: Record<string, number>;
    start?: boolean;
    client?: KinesisClient;
    checkpointStore?: CheckpointStore;
    closeWindowsAtStop?: boolean;
    /** The mapping's logger (default: silent); tests that assert log lines pass one writing to memory. */
    logger?: Logger;
  } = {},
): Promise<RunningMapping> {
  const invocations: Invocation[] = [];
  const activity: EsmActivity[] = [];
  const sink = new MemorySink();
  const sentinels = { sequenceNumbers: new Set<string>(), invocations: 0, records: 0 };
  const mapping = new LocalEventSourceMapping({
    kinesis: extra.client ?? fixture.client,
    consumerName: 'test-consumer',
    functionArn: FUNCTION_ARN,
    streamName: fixture.streamName,
    streamArn: fixture.streamArn,
    region: 'us-east-1',
    settings: mappingSettings,
    invoke: async (event) => {
      const typed = event as Invocation['event'];
      // Deep copy: the test sees the event exactly as serialized to the function.
      const copy = JSON.parse(JSON.stringify(typed)) as Invocation['event'];
      const invocation: Invocation = {
        event: copy,
        sequenceNumbers: copy.Records.map((r) => r.kinesis.sequenceNumber),
        data: copy.Records.map(decode),
      };
      // A batch of sentinels only (see quiesce) succeeds and is not the test's business.
      if (invocation.data.length > 0 && invocation.data.every(isSentinel)) {
        sentinels.invocations += 1;
        sentinels.records += invocation.data.length;
        return ok();
      }
      invocations.push(invocation);
      return script(invocation, invocations.length - 1);
    },
    onFailure: sink,
    logger: extra.logger ?? createLogger({ name: 'esm-test', level: 'silent' }),
    ...(extra.clock ? { clock: extra.clock } : {}),
    ...(extra.checkpointStore ? { checkpointStore: extra.checkpointStore } : {}),
    ...(extra.closeWindowsAtStop !== undefined ? { closeWindowsAtStop: extra.closeWindowsAtStop } : {}),
    timing: { ...FAST_TIMING, ...extra.timing },
    onActivity: (a) => activity.push(a),
  });
  if (extra.start !== false) await mapping.start();
  return {
    mapping,
    invocations,
    activity,
    sink,
    checkpoints: () => activity.flatMap((a) => (a.type === 'checkpoint' && !sentinels.sequenceNumbers.has(a.sequenceNumber) ? [a.sequenceNumber] : [])),
    stats: () => {
      const s = mapping.stats();
      const filtered = sentinels.sequenceNumbers.size - sentinels.records;
      return {
        ...s,
        recordsRead: s.recordsRead - sentinels.sequenceNumbers.size,
        recordsProcessed: s.recordsProcessed - sentinels.records,
        recordsFiltered: s.recordsFiltered - filtered,
        invocations: s.invocations - sentinels.invocations,
      };
    },
    sentinels,
    stop: () => mapping.stop(),
  };
}

/** What a test file's tests share: a fresh one-shard stream per test, and the mapping the test started. */
export interface MappingTestContext {
  /** Replaceable (e.g. by a stream with more shards); the current one is stopped after the test. */
  fixture: StreamFixture;
  /** Set by the test; stopped after it. */
  running: RunningMapping | undefined;
}

/** Registers the hooks: a new stream before each test; after it, the test's mapping stopped and the stream's engine too. */
export function useStreamFixture(): MappingTestContext {
  let fixture: StreamFixture | undefined;
  const context: MappingTestContext = {
    get fixture() {
      if (!fixture) throw new Error('the stream fixture exists only while a test runs');
      return fixture;
    },
    set fixture(next: StreamFixture) {
      fixture = next;
    },
    running: undefined,
  };
  beforeEach(async () => {
    fixture = await StreamFixture.start();
  });
  afterEach(async () => {
    await context.running?.stop();
    context.running = undefined;
    await fixture?.stop();
    fixture = undefined;
  });
  return context;
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Hang detector, not a timing assertion: 'settled' if the promise settles within a bound far above its
 * normal duration, else 'still pending'.
 */
export async function settlesWithin(promise: Promise<unknown>, boundMs = 10_000): Promise<'settled' | 'still pending'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'still pending'>((resolve) => (timer = setTimeout(() => resolve('still pending'), boundMs)));
  try {
    return await Promise.race([promise.then(() => 'settled' as const), bound]);
  } finally {
    clearTimeout(timer);
  }
}

const SENTINEL_KEY = '__quiesce_sentinel__';
const isSentinel = (data: unknown): boolean => typeof data === 'object' && data !== null && SENTINEL_KEY in data;

/**
 * Proves the mapping is done with every record put so far, instead of sleeping before a "did not happen"
 * assertion: puts a sentinel record and waits until a checkpoint reaches it. A shard's records are
 * processed in order (a failing batch is retried, bisected or discarded before anything after it is
 * checkpointed), so once the sentinel is checkpointed nothing put before it can still be invoked, retried
 * or sent to the on-failure destination. The sentinel's own invocation is not recorded (a batch mixing it
 * with the test's records would be, and fail the test visibly). For one-shard streams with
 * ParallelizationFactor 1 and no batching window holding records back.
 */
export async function quiesce(fixture: StreamFixture, running: RunningMapping): Promise<void> {
  const [sentinel] = await fixture.put([{ key: 'quiesce-sentinel', data: { [SENTINEL_KEY]: true } }]);
  running.sentinels.sequenceNumbers.add(sentinel!.sequenceNumber);
  await waitFor(
    () => running.activity.some((a) => a.type === 'checkpoint' && a.sequenceNumber === sentinel!.sequenceNumber),
    'the sentinel record put after the end state to be checkpointed',
  );
}

/** Give the mapping time to do something it must NOT do (only where no later event can prove it; see quiesce). */
export const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

export const seqs = (puts: PutResult[], ...indexes: number[]) => indexes.map((i) => (puts[i] as PutResult).sequenceNumber);
