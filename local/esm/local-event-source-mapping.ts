/**
 * The local event source mapping: Lambda's Kinesis poller, rule by rule (docs/semantics.md lists
 * every rule with the test that proves it).
 *
 * Shards are found with ListShards and re-listed periodically. Resharding (Kinesis developer guide,
 * "Complete the resharding action": read a parent shard to its end before its children to keep
 * per-key order; Lambda page "Time windows": "When the shard ends [...] the child shards start their
 * own window"): a shard starts only when every parent listed in the stream is fully processed; shards
 * that appear after start() begin at TRIM_HORIZON so nothing written to them is skipped.
 */
import type { ShardIteratorType } from '@aws-sdk/client-kinesis';
import { GetShardIteratorCommand, type Shard } from '@aws-sdk/client-kinesis';
import { listAllShards } from '../../kinesis/client';
import { createLogger } from '../../telemetry/logger';
import { compileFilters } from './filter-pattern';
import { DEFAULT_TIMING, emptyCounters, type MappingContext } from './mapping-context';
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
    };
  }

  /** List the shards, acquire LATEST iterators (so records put after start() resolves are seen) and start polling. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error('a LocalEventSourceMapping starts once');
    this.state = 'running';
    this.startedAt = new Date(this.ctx.clock.now());
    const shards = await listAllShards(this.ctx.options.kinesis, this.ctx.options.streamName);
    for (const shard of shards) {
      if (shard.ShardId === undefined) continue;
      this.shards.set(shard.ShardId, shard);
      this.initialShardIds.add(shard.ShardId);
    }
    if (this.ctx.settings.startingPosition === 'LATEST') {
      await Promise.all(
        [...this.shards.keys()].map(async (shardId) => {
          const out = await this.ctx.options.kinesis.send(
            new GetShardIteratorCommand({ StreamName: this.ctx.options.streamName, ShardId: shardId, ShardIteratorType: 'LATEST' }),
          );
          if (out.ShardIterator !== undefined) this.preacquired.set(shardId, out.ShardIterator);
        }),
      );
    }
    this.schedule();
    this.discovery = this.discoveryLoop();
    this.ctx.logger.info({ shards: this.shards.size, startingPosition: this.ctx.settings.startingPosition }, 'event source mapping started');
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
        status: worker?.status ?? 'waiting-for-parent',
        checkpoint: worker?.checkpoint,
        millisBehindLatest: worker?.millisBehindLatest ?? 0,
        pendingRecords: worker?.pendingRecords ?? 0,
      } as const;
      shards[shardId] = stats;
      pending += stats.pendingRecords;
      if (stats.status === 'reading') behind = Math.max(behind, stats.millisBehindLatest);
    }
    return { state: this.state, shards, ...this.counters, recordsPending: pending, millisBehindLatest: behind };
  }

  private iteratorStart(shardId: string): IteratorStart {
    const { settings } = this.ctx;
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
      if (this.workers.has(shardId)) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
        (parent): parent is string => parent !== undefined && this.shards.has(parent),
      );
      if (!parents.every((parent) => this.finished.has(parent))) continue;
      const worker = new ShardWorker(this.ctx, shardId, this.iteratorStart(shardId));
      this.workers.set(shardId, worker);
      void worker.done.then((finished) => {
        if (!finished) return;
        this.finished.add(shardId);
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
