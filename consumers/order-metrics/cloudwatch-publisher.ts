/**
 * Publishes a window's figures with CloudWatch PutMetricData.
 *
 * A window produces 4 + one per currency data points, so one request in practice; the split into
 * requests within PutMetricData's limits (telemetry/put-metric-data-chunks.ts, shared with the producer's
 * MetricPublisher) keeps larger windows legal and rejects a datum CloudWatch would refuse (for example a
 * NaN or infinite value) before anything is sent.
 */
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { chunkPutMetricData } from '../../telemetry/put-metric-data-chunks';
import type { BusinessMetricDatum, WindowPublication } from './business-metrics';
import type { BusinessMetricsPublisher, PublishOutcome } from './business-metrics-publisher';
import { InMemoryPublishLedger, type PublishLedger } from './publish-ledger';

export interface CloudWatchPublisherOptions {
  client: CloudWatchClient;
  namespace: string;
  /** Default: in-memory, per container. Deployed: DynamoDbPublishLedger (see publish-window.ts for the guarantee). */
  ledger?: PublishLedger;
}

export class CloudWatchBusinessMetricsPublisher implements BusinessMetricsPublisher {
  private readonly client: CloudWatchClient;
  private readonly namespace: string;
  private readonly ledger: PublishLedger;

  constructor(options: CloudWatchPublisherOptions) {
    this.client = options.client;
    this.namespace = options.namespace;
    this.ledger = options.ledger ?? new InMemoryPublishLedger();
  }

  async publish(publication: WindowPublication): Promise<PublishOutcome> {
    if (!(await this.ledger.claim(publication.windowKey))) return 'already-published';
    try {
      // Throws InvalidMetricDatumError before the first call when a datum breaks a PutMetricData rule.
      for (const data of chunkPutMetricData(this.namespace, publication.data.map(toMetricDatum))) {
        await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: data }));
      }
      return 'published';
    } catch (error) {
      await this.ledger.release(publication.windowKey);
      throw error;
    }
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
