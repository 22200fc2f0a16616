/**
 * Business figures for the live view, summed from the metrics file order-metrics writes locally
 * (one PutMetricData-shaped datum per line: {Namespace, MetricName, Dimensions, Timestamp, Value|StatisticValues, Unit}).
 */

export interface BusinessFigures {
  namespace: string;
  /** Sum per metric name over every published window of this run. */
  totals: Record<string, number>;
  /** RevenueMinor-style metrics split by their Currency dimension: metric -> currency -> sum. */
  byCurrency: Record<string, Record<string, number>>;
  /** Data points read. */
  datapoints: number;
}

export function emptyFigures(namespace: string): BusinessFigures {
  return { namespace, totals: {}, byCurrency: {}, datapoints: 0 };
}

export function addDatum(figures: BusinessFigures, line: unknown): void {
  if (line === null || typeof line !== 'object') return;
  const datum = line as { MetricName?: unknown; Value?: unknown; StatisticValues?: { Sum?: unknown }; Dimensions?: unknown };
  if (typeof datum.MetricName !== 'string') return;
  const value = typeof datum.Value === 'number' ? datum.Value : typeof datum.StatisticValues?.Sum === 'number' ? datum.StatisticValues.Sum : undefined;
  if (value === undefined) return;
  figures.datapoints += 1;
  const currency = Array.isArray(datum.Dimensions)
    ? (datum.Dimensions as { Name?: unknown; Value?: unknown }[]).find((d) => d.Name === 'Currency')?.Value
    : undefined;
  if (typeof currency === 'string') {
    const split = (figures.byCurrency[datum.MetricName] ??= {});
    split[currency] = (split[currency] ?? 0) + value;
  } else {
    figures.totals[datum.MetricName] = (figures.totals[datum.MetricName] ?? 0) + value;
  }
}
