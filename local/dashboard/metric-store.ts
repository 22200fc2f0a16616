/**
 * The run's metrics as CloudWatch would hold them: raw values per metric (namespace + name + exact
 * dimension set, as CloudWatch identifies a metric), and the statistics CloudWatch computes over a
 * period (Sum, Maximum, Minimum, Average, SampleCount, pNN percentiles).
 */

export interface MetricId {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
}

/** One value of one metric at one moment (epoch ms), as the local collector read it. */
export interface MetricSample extends MetricId {
  t: number;
  v: number;
}

/** `namespace|name|k=v,k=v` with dimensions sorted: a metric with other dimensions is another metric. */
export function metricKey(id: MetricId): string {
  const dims = Object.entries(id.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${id.namespace}|${id.metricName}|${dims}`;
}

/**
 * A statistic over the values of one period (CloudWatch "Statistics definitions"); undefined when
 * the period has no value (a missing datapoint). Percentiles use the nearest-rank method.
 */
export function statistic(values: readonly number[], stat: string): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
  }
  const percentile = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  if (percentile) {
    const p = Number(percentile[1]);
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[Math.min(sorted.length, rank) - 1];
  }
  throw new Error(`statistic ${stat} is not supported locally (Sum, Maximum, Minimum, Average, SampleCount, pNN)`);
}

export class MetricStore {
  private readonly byKey = new Map<string, { id: MetricId; samples: { t: number; v: number }[] }>();

  /** Samples must come in time order (the collector stamps them as it reads them). */
  add(sample: MetricSample): void {
    const key = metricKey(sample);
    let entry = this.byKey.get(key);
    if (!entry) {
      entry = { id: { namespace: sample.namespace, metricName: sample.metricName, dimensions: { ...sample.dimensions } }, samples: [] };
      this.byKey.set(key, entry);
    }
    entry.samples.push({ t: sample.t, v: sample.v });
  }

  has(id: MetricId): boolean {
    return this.byKey.has(metricKey(id));
  }

  /** Every metric of a namespace (a SEARCH over it). */
  inNamespace(namespace: string): MetricId[] {
    return [...this.byKey.values()].filter((e) => e.id.namespace === namespace).map((e) => e.id);
  }

  /** Values with from <= t < to. */
  values(id: MetricId, from: number, to: number): number[] {
    const entry = this.byKey.get(metricKey(id));
    if (!entry) return [];
    // Samples are added in time order: binary search for the first one at or after `from`.
    const samples = entry.samples;
    let lo = 0;
    let hi = samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[mid]!.t < from) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < samples.length && samples[i]!.t < to; i += 1) out.push(samples[i]!.v);
    return out;
  }

  /** One datapoint per period [start + k * periodMs, start + (k + 1) * periodMs) that ends by `end`. */
  datapoints(id: MetricId, stat: string, start: number, periodMs: number, end: number): (number | undefined)[] {
    const out: (number | undefined)[] = [];
    for (let from = start; from + periodMs <= end; from += periodMs) out.push(statistic(this.values(id, from, from + periodMs), stat));
    return out;
  }
}
