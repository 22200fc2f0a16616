/**
 * CloudWatch metrics from long-running processes (outside Lambda, where EMF is the tool):
 * values are aggregated client-side into StatisticValues (SampleCount, Sum, Minimum, Maximum) per
 * metric, then published once per interval with as few PutMetricData calls as the API allows.
 * The split into requests and the PutMetricData limits live in put-metric-data-chunks.ts.
 */
import {
  CloudWatchClient,
  PutMetricDataCommand,
  type CloudWatchClientConfig,
  type MetricDatum,
  type StandardUnit,
} from '@aws-sdk/client-cloudwatch';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createLogger, type Logger } from './logger';
import { PUT_METRIC_DATA_MAX_DIMENSIONS, chunkPutMetricData } from './put-metric-data-chunks';

export type Dimensions = Readonly<Record<string, string>>;

/** Pre-aggregated samples: `count` values summing to `sum`, between `min` and `max`. */
export interface StatisticSet {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export interface MetricPublisherOptions {
  /** CloudWatch namespace, e.g. `KinesisPipeline/Producer`. */
  namespace: string;
  /** A ready client; otherwise one is built from endpoint/region/credentials. */
  client?: CloudWatchClient;
  /** Endpoint override (e.g. a local CloudWatch emulator); `http://` uses an HTTP/1.1 handler. */
  endpoint?: string;
  region?: string;
  credentials?: CloudWatchClientConfig['credentials'];
  /** Publish interval in ms (default 60 000); 0 disables the timer (call `flush()` yourself). */
  intervalMs?: number;
  /** Dimensions added to every metric (e.g. `{ StreamName: 'orders' }`). */
  dimensions?: Dimensions;
  /** 1 = high resolution, 60 = standard (default). */
  storageResolution?: 1 | 60;
  logger?: Logger;
}

interface Series {
  name: string;
  unit: StandardUnit;
  dimensions: { Name: string; Value: string }[];
  stats: StatisticSet;
}

export class MetricPublisher {
  readonly namespace: string;
  private readonly client: CloudWatchClient;
  private readonly ownsClient: boolean;
  private readonly baseDimensions: Dimensions;
  private readonly baseKey: string;
  private readonly storageResolution: 1 | 60;
  private readonly log: Logger;
  private series = new Map<string, Series>();
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<number> = Promise.resolve(0);
  private closed = false;

  constructor(options: MetricPublisherOptions) {
    this.namespace = options.namespace;
    this.baseDimensions = options.dimensions ?? {};
    if (Object.keys(this.baseDimensions).length > PUT_METRIC_DATA_MAX_DIMENSIONS) {
      throw new Error(`at most ${PUT_METRIC_DATA_MAX_DIMENSIONS} dimensions per metric (PutMetricData limit)`);
    }
    this.baseKey = dimensionKey(this.baseDimensions);
    this.storageResolution = options.storageResolution ?? 60;
    this.log = options.logger ?? createLogger({ name: 'metric-publisher' });
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new CloudWatchClient({
        region: options.region ?? process.env['AWS_REGION'] ?? 'us-east-1',
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        ...(options.credentials !== undefined
          ? { credentials: options.credentials }
          : options.endpoint !== undefined && !process.env['AWS_ACCESS_KEY_ID']
            ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
            : {}),
        ...(options.endpoint?.startsWith('http://') ? { requestHandler: new NodeHttpHandler() } : {}),
      });
    const intervalMs = options.intervalMs ?? 60_000;
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.flush(), intervalMs);
      this.timer.unref();
    }
  }

  /** Add one sample. */
  record(name: string, value: number, unit: StandardUnit = 'Count', dimensions?: Dimensions): void {
    this.recordStats(name, { count: 1, sum: value, min: value, max: value }, unit, dimensions);
  }

  /** Add a pre-aggregated set of samples (cheap way to report per-batch figures). */
  recordStats(name: string, stats: StatisticSet, unit: StandardUnit = 'Count', dimensions?: Dimensions): void {
    if (this.closed || stats.count <= 0 || !Number.isFinite(stats.sum)) return;
    const dims = dimensions === undefined ? this.baseDimensions : { ...this.baseDimensions, ...dimensions };
    const key = `${name}|${unit}|${dimensions === undefined ? this.baseKey : dimensionKey(dims)}`;
    const existing = this.series.get(key);
    if (existing) {
      const s = existing.stats;
      s.count += stats.count;
      s.sum += stats.sum;
      if (stats.min < s.min) s.min = stats.min;
      if (stats.max > s.max) s.max = stats.max;
      return;
    }
    this.series.set(key, {
      name,
      unit,
      dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })),
      stats: { ...stats },
    });
  }

  /**
   * Publish everything aggregated so far; resolves with the number of PutMetricData calls made.
   * A failed call puts its data back so the next interval retries it (nothing is lost silently).
   */
  flush(): Promise<number> {
    this.publishing = this.publishing.then(() => this.publishNow());
    return this.publishing;
  }

  /** Stop the timer and publish what is left. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }

  private async publishNow(): Promise<number> {
    if (this.series.size === 0) return 0;
    const batch = this.series;
    this.series = new Map();
    const timestamp = new Date();
    // A datum CloudWatch would refuse (e.g. more than 30 dimensions) would fail its whole request on
    // every retry, holding back the others: it is logged with the rule it breaks and left out.
    const requests = chunkPutMetricData(
      this.namespace,
      [...batch.values()].map((s) => toDatum(s, timestamp, this.storageResolution)),
      {
        onRejected: (error) =>
          this.log.error({ metric: error.metricName, reason: error.reason, namespace: this.namespace }, 'metric left out: PutMetricData would reject it'),
      },
    );
    let calls = 0;
    for (const [index, data] of requests.entries()) {
      try {
        await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: data }));
        calls += 1;
      } catch (error) {
        this.log.warn(
          { err: errorSummary(error), metrics: data.length, namespace: this.namespace },
          'PutMetricData failed; metrics kept for the next interval',
        );
        for (const rest of requests.slice(index)) for (const datum of rest) this.restore(datum);
        break;
      }
    }
    return calls;
  }

  private restore(datum: MetricDatum): void {
    const s = datum.StatisticValues;
    if (!s || datum.MetricName === undefined) return;
    const dimensions = Object.fromEntries((datum.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? '']));
    this.recordStats(
      datum.MetricName,
      { count: s.SampleCount ?? 0, sum: s.Sum ?? 0, min: s.Minimum ?? 0, max: s.Maximum ?? 0 },
      datum.Unit ?? 'None',
      dimensions,
    );
  }
}

function toDatum(series: Series, timestamp: Date, storageResolution: 1 | 60): MetricDatum {
  return {
    MetricName: series.name,
    Unit: series.unit,
    Timestamp: timestamp,
    StorageResolution: storageResolution,
    ...(series.dimensions.length > 0 ? { Dimensions: series.dimensions } : {}),
    StatisticValues: {
      SampleCount: series.stats.count,
      Sum: series.stats.sum,
      Minimum: series.stats.min,
      Maximum: series.stats.max,
    },
  };
}

function dimensionKey(dimensions: Dimensions): string {
  return Object.keys(dimensions)
    .sort()
    .map((k) => `${k}=${dimensions[k]}`)
    .join(',');
}

function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
