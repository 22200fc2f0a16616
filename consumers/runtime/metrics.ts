/** Rule 11: one EMF document per invocation with the runtime's counters. */
import { formatEmf, validateEmfShape, type EmfMetric } from '../../telemetry/emf';
import type { MetricsOptions } from './options';

/** Metric names the runtime emits (all Count, except the two *Ms in Milliseconds). */
export const RUNTIME_METRIC_NAMES = [
  'RecordsReceived',
  'RecordsProcessed',
  'RecordsFiltered',
  'RecordsQuarantined',
  'RecordsRetried',
  'DuplicatesSkipped',
  'BatchDurationMs',
  'MaxRecordAgeMs',
] as const;

/** Counters of one invocation. User records of KPL aggregates count individually. */
export interface InvocationCounts {
  readonly received: number;
  readonly processed: number;
  /** Of `processed`: records the consumer's record filter (recordFilterPatterns) left out. */
  readonly filtered: number;
  readonly quarantined: number;
  readonly retried: number;
  readonly duplicates: number;
  readonly durationMs: number;
  /** Now minus the oldest approximateArrivalTimestamp (0 for an empty batch). */
  readonly maxRecordAgeMs: number;
}

/** Writes the invocation's EMF document (names, units and dimensions validated once, at construction). */
export class RuntimeMetrics {
  private readonly dimensions: Readonly<Record<string, string>>;

  constructor(
    consumerName: string,
    private readonly options: Required<MetricsOptions>,
  ) {
    this.dimensions = { ConsumerName: consumerName, ...options.dimensions };
    validateEmfShape(options.namespace, Object.keys(this.dimensions), RUNTIME_METRIC_NAMES);
  }

  emit(counts: InvocationCounts, timestamp: number, requestId: string | undefined): void {
    const metrics: EmfMetric[] = [
      { name: 'RecordsReceived', unit: 'Count', value: counts.received },
      { name: 'RecordsProcessed', unit: 'Count', value: counts.processed },
      { name: 'RecordsFiltered', unit: 'Count', value: counts.filtered },
      { name: 'RecordsQuarantined', unit: 'Count', value: counts.quarantined },
      { name: 'RecordsRetried', unit: 'Count', value: counts.retried },
      { name: 'DuplicatesSkipped', unit: 'Count', value: counts.duplicates },
      { name: 'BatchDurationMs', unit: 'Milliseconds', value: counts.durationMs },
      { name: 'MaxRecordAgeMs', unit: 'Milliseconds', value: counts.maxRecordAgeMs },
    ];
    this.options.writer(
      formatEmf({
        namespace: this.options.namespace,
        dimensions: this.dimensions,
        metrics,
        timestamp,
        ...(requestId !== undefined ? { properties: { requestId } } : {}),
      }),
    );
  }
}
