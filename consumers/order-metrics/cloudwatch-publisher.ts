/**
 * Publishes a window's figures with CloudWatch PutMetricData.
 *
 * Limits (CloudWatch API reference, PutMetricData): at most 1000 metrics per request and 1 MB per
 * HTTP POST request; up to 30 dimensions per metric; values must be finite. A window produces 4 + one
 * per currency data points, so one request in practice; the chunking below keeps larger windows legal.
 */
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { BusinessMetricDatum, WindowPublication } from './business-metrics';
import type { BusinessMetricsPublisher, PublishOutcome } from './business-metrics-publisher';
import { InMemoryPublishLedger, type PublishLedger } from './publish-ledger';

/** CloudWatch API reference, PutMetricData: "no more than 1000 different metrics" per request. */
export const PUT_METRIC_DATA_MAX_DATA = 1000;
/**
 * 1 MB per POST request. The wire encoding (query or CBOR protocol) differs from JSON, so the budget is
 * a third of the limit measured on the JSON form: the query encoding repeats member paths per field.
 */
export const PUT_METRIC_DATA_JSON_BUDGET_BYTES = Math.floor(1_000_000 / 3);

export interface CloudWatchPublisherOptions {
  client: CloudWatchClient;
  namespace: string;
  /** Default: in-memory, per container (see publish-ledger.ts for the guarantee). */
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
      for (const chunk of chunkMetricData(publication.data)) {
        await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: chunk.map(toMetricDatum) }));
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

/** Splits data into requests within PutMetricData's count and size limits, preserving order. */
export function chunkMetricData(data: readonly BusinessMetricDatum[]): BusinessMetricDatum[][] {
  const chunks: BusinessMetricDatum[][] = [];
  let current: BusinessMetricDatum[] = [];
  let bytes = 0;
  for (const datum of data) {
    if (!Number.isFinite(datum.Value)) throw new RangeError(`${datum.MetricName}: PutMetricData rejects NaN and infinite values`);
    const size = Buffer.byteLength(JSON.stringify(datum), 'utf8');
    if (current.length > 0 && (current.length === PUT_METRIC_DATA_MAX_DATA || bytes + size > PUT_METRIC_DATA_JSON_BUDGET_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(datum);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
