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
import type { BusinessMetricsPublisher, PublishOptions, PublishOutcome } from './business-metrics-publisher';
import { publishOnce } from './publish-once';
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

  async publish(publication: WindowPublication, options: PublishOptions = {}): Promise<PublishOutcome> {
    // Throws InvalidMetricDatumError before the claim when a datum breaks a PutMetricData rule.
    const requests = chunkPutMetricData(this.namespace, publication.data.map(toMetricDatum));
    return publishOnce(this.ledger, publication.windowKey, options, async () => {
      for (const data of requests) await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: data }));
    });
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
