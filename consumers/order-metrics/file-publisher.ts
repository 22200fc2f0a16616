/**
 * Local stand-in for CloudWatch (team contract): `<LOCAL_DATA_DIR>/metrics/<namespace>.ndjson`, one
 * PutMetricData-shaped datum per line: {Namespace, MetricName, Dimensions, Timestamp, Value, Unit}.
 * A namespace with "/" (e.g. "Orders/Business") is a sub-folder, exactly as path.join makes it.
 * Windows are de-duplicated by the claim files of a FilePublishLedger under `<LOCAL_DATA_DIR>/metrics/.published/`.
 */
import { join } from 'node:path';
import { appendWholeLines } from '../runtime/append-whole-lines';
import type { BusinessMetricDatum, MetricDimension, WindowPublication } from './business-metrics';
import type { BusinessMetricsPublisher, PublishOptions, PublishOutcome } from './business-metrics-publisher';
import { FilePublishLedger } from './file-publish-ledger';
import { publishOnce } from './publish-once';
import type { PublishLedger } from './publish-ledger';

/** One line of the local metrics file. */
export interface BusinessMetricLine {
  Namespace: string;
  MetricName: string;
  Dimensions: MetricDimension[];
  /** ISO-8601 (the window start). */
  Timestamp: string;
  Value: number;
  Unit: string;
}

export function businessMetricsFilePath(dataDir: string, namespace: string): string {
  return join(dataDir, 'metrics', `${namespace}.ndjson`);
}

export function publishedMarkersDir(dataDir: string): string {
  return join(dataDir, 'metrics', '.published');
}

export class FileBusinessMetricsPublisher implements BusinessMetricsPublisher {
  readonly path: string;
  private readonly namespace: string;
  private readonly ledger: PublishLedger;

  constructor(options: { dataDir: string; namespace: string; ledger?: PublishLedger }) {
    this.namespace = options.namespace;
    this.path = businessMetricsFilePath(options.dataDir, options.namespace);
    this.ledger = options.ledger ?? new FilePublishLedger(publishedMarkersDir(options.dataDir));
  }

  async publish(publication: WindowPublication, options: PublishOptions = {}): Promise<PublishOutcome> {
    return publishOnce(this.ledger, publication.windowKey, options, async () => {
      // One append per window: readers never see half a window; a failed append (disk full) leaves no torn line.
      await appendWholeLines(this.path, publication.data.map((d) => JSON.stringify(this.toLine(d))).join('\n') + '\n');
    }, publication);
  }

  publishedEventIds(windowKey: string): Promise<readonly string[] | undefined> {
    return this.ledger.completedEventIds(windowKey);
  }

  private toLine(datum: BusinessMetricDatum): BusinessMetricLine {
    return {
      Namespace: this.namespace,
      MetricName: datum.MetricName,
      Dimensions: datum.Dimensions.map((d) => ({ Name: d.Name, Value: d.Value })),
      Timestamp: datum.Timestamp.toISOString(),
      Value: datum.Value,
      Unit: datum.Unit,
    };
  }
}
