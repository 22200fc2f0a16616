/**
 * The local event source mapping: Lambda's Kinesis poller, rule by rule (docs/semantics.md lists
 * every rule with the test that proves it).
 *
 * Shards are found with ListShards and re-listed periodically. Resharding (Kinesis developer guide,
 * "Complete the resharding action": read a parent shard to its end before its children to keep
 * per-key order; Lambda page "Time windows": "When the shard ends [...] the child shards start their
 * own window"): a shard starts only when every parent listed in the stream is fully processed; shards
 * that appear after start() begin at TRIM_HORIZON so nothing written to them is skipped.
 *
 * With a checkpoint store (./checkpoint-store.ts) the per-shard progress survives a restart, as an
 * AWS mapping's does ("Lambda keeps track of the last record processed and resumes processing from
 * that point", with-kinesis, Enabled option): a shard with a stored checkpoint resumes
 * AFTER_SEQUENCE_NUMBER, a stored finished shard is not read again (its children start), an open
 * tumbling window carries on with its stored state.
 */
import type { ShardIteratorType } from '@aws-sdk/client-kinesis';
import { DescribeStreamSummaryCommand, GetShardIteratorCommand, type Shard } from '@aws-sdk/client-kinesis';
import { listAllShards } from '../../kinesis/client';
import { createLogger } from '../../telemetry/logger';
import type { MappingIdentity, MappingProgress, StoredShardProgress } from './checkpoint-store';
import { compileFilters } from '../../kinesis/filter-pattern';
import { DEFAULT_TIMING, emptyCounters, type MappingContext } from './mapping-context';
import { ProgressRecorder } from './progress-recorder';
import { ShardWorker, type IteratorStart } from './shard-worker';
import { Signal } from './signal';
import { defaultInvokeIdentityArn } from './stream-record';
import type { EsmActivity, EsmCounters, EsmStats, LocalEventSourceMappingOptions } from './types';

export class LocalEventSourceMapping {
  private readonly ctx: MappingContext;
  private readonly counters: EsmCounters = emptyCounters();
  private state: EsmStats['state'] = 'created';
  private readonly shards = new Map<string, Shard>();
  private readonly initialShardIds = new Set<string>();
  private readonly preacquired = new Map<string, string>();
  private readonly workers = new Map<string, ShardWorker>();
  private readonly finished = new Set<string>();
  private readonly discoverySignal = new Signal();
  private discovery: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private startedAt = new Date(0);
  /** Progress loaded from the checkpoint store (undefined: none stored, or no store). */
  private stored: MappingProgress | undefined;
  private recorder: ProgressRecorder | undefined;

  constructor(options: LocalEventSourceMappingOptions) {
    const { settings } = options;
    if (settings.startingPosition === 'AT_TIMESTAMP' && settings.startingPositionTimestamp === undefined) {
      throw new Error(`mapping of ${options.consumerName}: startingPositionTimestamp is required with AT_TIMESTAMP`);
    }
    const logger = options.logger ?? createLogger({ name: 'local-esm', base: { consumer: options.consumerName } });
    const onActivity = options.onActivity;
    this.ctx = {
      options,
      settings,
      clock: options.clock ?? { now: () => Date.now() },
      timing: { ...DEFAULT_TIMING, ...options.timing },
      logger,
      // Throws FilterPatternError for a pattern Lambda would reject (at CreateEventSourceMapping).
      filter: compileFilters(settings.filterPatterns),
      invokeIdentityArn: options.invokeIdentityArn ?? defaultInvokeIdentityArn(options.functionArn, options.consumerName),
      counters: this.counters,
      tumblingWindowInSeconds: settings.tumblingWindowInSeconds ?? 0,
      emit: (activity: EsmActivity) => {
        if (onActivity === undefined) return;
        try {
          onActivity(activity);
        } catch (error) {
          logger.warn({ err: error }, 'onActivity observer threw');
        }
      },
      progressChanged: () => this.recorder?.changed(),
    };
  }

  /** List the shards, acquire LATEST iterators (so records put after start() resolves are seen) and start polling. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error('a LocalEventSourceMapping starts once');
    this.startedAt = new Date(this.ctx.clock.now());
    // Stored progress first: a store that cannot be read fails start() (state stays 'created').
    const store = this.ctx.options.checkpointStore;
    if (store !== undefined) {
      const identity = await this.identity();
      this.stored = await store.load(identity);
      this.recorder = new ProgressRecorder(store, identity, () => this.progress(), this.ctx.timing.checkpointWriteDelayMs, this.ctx.logger);
    }
    this.state = 'running';
    const shards = await listAllShards(this.ctx.options.kinesis, this.ctx.options.streamName);
    for (const shard of shards) {
      if (shard.ShardId === undefined) continue;
      this.shards.set(shard.ShardId, shard);
      this.initialShardIds.add(shard.ShardId);
    }
    this.restoreProgress();
    if (this.ctx.settings.startingPosition === 'LATEST' && this.stored === undefined) {
      await Promise.all(
        [...this.shards.keys()].map(async (shardId) => {
          const out = await this.ctx.options.kinesis.send(
            new GetShardIteratorCommand({ StreamName: this.ctx.options.streamName, ShardId: shardId, ShardIteratorType: 'LATEST' }),
          );
          if (out.ShardIterator !== undefined) this.preacquired.set(shardId, out.ShardIterator);
        }),
      );
    }
    // Store the first start time at once (a LATEST mapping resumes from it, see iteratorStart).
    if (this.stored === undefined) this.recorder?.changed();
    this.schedule();
    this.discovery = this.discoveryLoop();
    this.ctx.logger.info(
      { shards: this.shards.size, startingPosition: this.ctx.settings.startingPosition, resumed: this.stored !== undefined },
      'event source mapping started',
    );
  }

  /** Who the stored checkpoints belong to; the creation time tells a re-created stream (same name and ARN) apart. */
  private async identity(): Promise<MappingIdentity> {
    const { options } = this.ctx;
    const summary = await options.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: options.streamName }));
    const created = summary.StreamDescriptionSummary?.StreamCreationTimestamp;
    return {
      consumerName: options.consumerName,
      functionArn: options.functionArn,
      streamName: options.streamName,
      streamArn: options.streamArn,
      streamCreatedAt: created instanceof Date ? created.toISOString() : 'unknown',
    };
  }

  /** Stored finished shards count as processed; checkpoints of shards no longer in the stream are dropped. */
  private restoreProgress(): void {
    if (this.stored === undefined) return;
    for (const [shardId, progress] of Object.entries(this.stored.shards)) {
      if (!this.shards.has(shardId)) {
        this.ctx.logger.warn({ shardId, checkpoint: progress.checkpoint }, 'stored checkpoint ignored: the shard is no longer in the stream (expired?)');
        continue;
      }
      if (progress.finished === true) this.finished.add(shardId);
    }
  }

  /** The progress to store: per listed shard, its checkpoint, finished flag and open window. */
  private progress(): MappingProgress {
    const shards: Record<string, StoredShardProgress> = {};
    for (const shardId of this.shards.keys()) {
      const worker = this.workers.get(shardId);
      const stored = this.stored?.shards[shardId];
      const entry: StoredShardProgress = {};
      const checkpoint = worker !== undefined ? worker.checkpoint : stored?.checkpoint;
      if (checkpoint !== undefined) entry.checkpoint = checkpoint;
      if (this.finished.has(shardId)) entry.finished = true;
      const window = worker !== undefined ? worker.persistedWindow : stored?.window;
      if (window !== undefined) entry.window = window;
      if (Object.keys(entry).length > 0) shards[shardId] = entry;
    }
    return { firstStartedAt: this.stored?.firstStartedAt ?? this.startedAt.toISOString(), shards };
  }

  /** Graceful drain: stop reading, finish the records already read (no new retries), then resolve. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.state === 'created') {
        this.state = 'stopped';
        return;
      }
      this.state = 'stopping';
      this.discoverySignal.notify();
      for (const worker of this.workers.values()) worker.requestStop();
      await Promise.all([this.discovery, ...[...this.workers.values()].map((worker) => worker.done)]);
      await this.recorder?.flush();
      this.state = 'stopped';
      this.ctx.logger.info({ ...this.counters }, 'event source mapping stopped');
    })();
    return this.stopping;
  }

  stats(): EsmStats {
    const shards: EsmStats['shards'] = {};
    let pending = 0;
    let behind = 0;
    for (const shardId of this.shards.keys()) {
      const worker = this.workers.get(shardId);
      const stats = {
        status: worker?.status ?? (this.finished.has(shardId) ? 'finished' : 'waiting-for-parent'),
        checkpoint: worker?.checkpoint ?? this.stored?.shards[shardId]?.checkpoint,
        millisBehindLatest: worker?.millisBehindLatest ?? 0,
        pendingRecords: worker?.pendingRecords ?? 0,
      } as const;
      shards[shardId] = stats;
      pending += stats.pendingRecords;
      if (stats.status === 'reading') behind = Math.max(behind, stats.millisBehindLatest);
    }
    return {
      state: this.state,
      shards,
      ...this.counters,
      recordsPending: pending,
      millisBehindLatest: behind,
      ...(this.recorder !== undefined ? { checkpointWrites: this.recorder.health() } : {}),
    };
  }

  private iteratorStart(shardId: string): IteratorStart {
    const { settings } = this.ctx;
    if (this.stored !== undefined) {
      const checkpoint = this.stored.shards[shardId]?.checkpoint;
      if (checkpoint !== undefined) return { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: checkpoint };
      const shard = this.shards.get(shardId);
      const parents = [shard?.ParentShardId, shard?.AdjacentParentShardId].filter((p): p is string => p !== undefined);
      // A child of a shard this mapping already read appeared after the mapping's start: TRIM_HORIZON (rule 3).
      if (parents.some((parent) => this.stored?.shards[parent] !== undefined)) return { type: 'TRIM_HORIZON' };
      // LATEST means "records put after the mapping was created": resume from that moment, not from this restart.
      if (settings.startingPosition === 'LATEST' && this.initialShardIds.has(shardId)) {
        return { type: 'AT_TIMESTAMP', timestamp: new Date(this.stored.firstStartedAt) };
      }
    }
    const preacquired = this.preacquired.get(shardId);
    if (preacquired !== undefined) return { type: 'LATEST', iterator: preacquired, resumeAt: this.startedAt };
    if (!this.initialShardIds.has(shardId)) return { type: 'TRIM_HORIZON' };
    const type: ShardIteratorType = settings.startingPosition;
    return type === 'AT_TIMESTAMP' ? { type, timestamp: new Date(settings.startingPositionTimestamp as string) } : { type };
  }

  /** Start every shard whose parents (those still listed) are fully processed. */
  private schedule(): void {
    if (this.state !== 'running') return;
    for (const [shardId, shard] of this.shards) {
      if (this.workers.has(shardId) || this.finished.has(shardId)) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
        (parent): parent is string => parent !== undefined && this.shards.has(parent),
      );
      if (!parents.every((parent) => this.finished.has(parent))) continue;
      const worker = new ShardWorker(this.ctx, shardId, this.iteratorStart(shardId), this.stored?.shards[shardId]?.window);
      this.workers.set(shardId, worker);
      void worker.done.then((finished) => {
        if (!finished) return;
        this.finished.add(shardId);
        this.recorder?.changed();
        this.schedule();
        this.discoverySignal.notify();
      });
    }
  }

  private async discoveryLoop(): Promise<void> {
    while (this.state === 'running') {
      await this.discoverySignal.wait(this.ctx.timing.shardDiscoveryIntervalMs);
      if (this.state !== 'running') return;
      try {
        for (const shard of await listAllShards(this.ctx.options.kinesis, this.ctx.options.streamName)) {
          if (shard.ShardId !== undefined && !this.shards.has(shard.ShardId)) {
            this.shards.set(shard.ShardId, shard);
            this.ctx.logger.info({ shardId: shard.ShardId, parent: shard.ParentShardId }, 'new shard found');
          }
        }
        this.schedule();
      } catch (error) {
        this.ctx.logger.warn({ err: error }, 'ListShards failed; will retry');
      }
    }
  }
}
