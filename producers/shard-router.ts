/**
 * The stream's shard hash-key ranges, for aggregating only records that land on the same shard.
 * Loaded with ListShards once, refreshed when Kinesis places a record on another shard than
 * predicted (the stream was resharded), as the KPL does.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { listAllShards } from '../kinesis/client';
import { ShardMap } from '../kinesis/hash-key';
import type { Logger } from '../telemetry/logger';

export class ShardRouter {
  private current: ShardMap | undefined;
  private loading: Promise<void> | undefined;
  private loaded = false;
  private lastRefreshAt = Number.NEGATIVE_INFINITY;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    private readonly log: Logger,
    /** Called after every (re)load, with whether the map changed. */
    private readonly onChange: () => void,
    /** Minimum time between refreshes triggered by mismatches (ms). */
    private readonly minRefreshIntervalMs = 1_000,
  ) {}

  /** True once a first load finished (successfully or not). */
  get ready(): boolean {
    return this.loaded;
  }

  /** The shard map, or undefined when ListShards failed (callers then group by partition key). */
  get map(): ShardMap | undefined {
    return this.current;
  }

  /** Start the first load (idempotent). */
  load(): void {
    if (this.loaded || this.loading) return;
    this.reload();
  }

  /** Kinesis put a record on another shard than predicted: reload, at most once per interval. */
  refreshSoon(reason = 'record landed on another shard than predicted'): void {
    if (this.loading || this.stopped) return;
    const now = performance.now();
    if (now - this.lastRefreshAt < this.minRefreshIntervalMs) return;
    this.lastRefreshAt = now;
    this.refreshes++;
    this.log.info({ stream: this.streamName, reason }, 'refreshing shard map (ListShards)');
    this.reload();
  }

  /** Reloads triggered after the first load. */
  refreshes = 0;

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private reload(): void {
    this.loading = listAllShards(this.client, this.streamName)
      .then((shards) => {
        const map = ShardMap.fromShards(shards);
        if (map.ranges.length === 0) throw new Error('ListShards returned no open shard');
        this.current = map;
        this.log.debug({ stream: this.streamName, openShards: map.ranges.length }, 'shard map loaded');
      })
      .catch((error: unknown) => {
        this.log.warn(
          { stream: this.streamName, err: { name: (error as Error).name, message: (error as Error).message } },
          'ListShards failed; aggregating by partition key only until it succeeds',
        );
        if (!this.stopped) {
          this.retryTimer = setTimeout(() => this.refreshSoon('previous ListShards failed'), 5_000);
          this.retryTimer.unref();
        }
      })
      .finally(() => {
        this.loading = undefined;
        this.loaded = true;
        if (!this.stopped) this.onChange();
      });
  }
}
