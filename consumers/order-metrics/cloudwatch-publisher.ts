/**
 * Publishes a window's figures with CloudWatch PutMetricData.
 *
 * A window produces 4 + one per currency data points, so one request in practice; the split into
 * requests within PutMetricData's limits (telemetry/put-metric-data-chunks.ts, shared with the producer's
 * MetricPublisher) keeps larger windows legal and rejects a datum CloudWatch would refuse (for example a
 * NaN or infinite value) before anything is sent.
 *
 * A window closes about once a minute per shard, not on every batch: the CloudWatch client loads on the
 * first publish, not at cold start (runtime/on-first-use.ts).
 */
import type { CloudWatchClient, MetricDatum } from '@aws-sdk/client-cloudwatch';
import { onFirstUse } from '../runtime/on-first-use';
import { chunkPutMetricData } from '../../telemetry/put-metric-data-chunks';
import type { BusinessMetricDatum, WindowPublication } from './business-metrics';
import type { BusinessMetricsPublisher, PublishOptions, PublishOutcome } from './business-metrics-publisher';
import { publishOnce } from './publish-once';
import { InMemoryPublishLedger, type PublishLedger } from './publish-ledger';

const cloudWatchSdk = onFirstUse(() => import('./cloudwatch-sdk'));

export interface CloudWatchPublisherOptions {
  /** Default: `new CloudWatchClient({})` (the default credential chain), created on the first publish. */
  client?: CloudWatchClient;
  namespace: string;
  /** Default: in-memory, per container. Deployed: DynamoDbPublishLedger (see publish-window.ts for the guarantee). */
  ledger?: PublishLedger;
}

export class CloudWatchBusinessMetricsPublisher implements BusinessMetricsPublisher {
  private client: CloudWatchClient | undefined;
  private readonly namespace: string;
  private readonly ledger: PublishLedger;

  constructor(options: CloudWatchPublisherOptions) {
    this.client = options.client;
    this.namespace = options.namespace;
    this.ledger = options.ledger ?? new InMemoryPublishLedger();
  }

  async publish(publication: WindowPublication, options: PublishOptions = {}): Promise<PublishOutcome> {
    // Throws InvalidMetricDatumError before the claim when a datum breaks a PutMetricData rule.
    const requests = chunkPutMetricData(this.namespace, publication.data.map(toMetricDatum));
    return publishOnce(this.ledger, publication.windowKey, options, async () => {
      const { CloudWatchClient, PutMetricDataCommand } = await cloudWatchSdk();
      const client = (this.client ??= new CloudWatchClient({}));
      for (const data of requests) await client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: data }));
    }, publication);
  }

  publishedEventIds(windowKey: string): Promise<readonly string[] | undefined> {
    return this.ledger.completedEventIds(windowKey);
  }
}

function toMetricDatum(datum: BusinessMetricDatum): MetricDatum {
  return {
    MetricName: datum.MetricName,
    Dimensions: datum.Dimensions.map((d) => ({ Name: d.Name, Value: d.Value })),
    Timestamp: datum.Timestamp,
    Value: datum.Value,
    Unit: datum.Unit,
  };
}
