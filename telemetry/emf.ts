/**
 * CloudWatch Embedded Metric Format (EMF) documents: inside Lambda, metrics are log lines that
 * CloudWatch Logs turns into metrics, no API call on the hot path.
 *
 * Structure (CloudWatch user guide, "Specification: Embedded metric format"):
 *   { "_aws": { "Timestamp": <ms since epoch>,
 *               "CloudWatchMetrics": [ { "Namespace": "...",
 *                                        "Dimensions": [ ["DimA", "DimB"] ],
 *                                        "Metrics": [ { "Name": "M", "Unit": "Count" } ] } ] },
 *     "DimA": "value", "DimB": "value", "M": 42 }
 * Dimension and metric values are members of the root; a DimensionSet holds at most 30 dimension
 * keys; a directive at most 100 metrics; a metric value is a number or an array of at most 100 numbers;
 * dimension values are strings. The document is one JSON object on one line (1 MB event limit).
 */

/** CloudWatch StandardUnit values allowed in EMF MetricDefinition.Unit. */
export type EmfUnit =
  | 'Seconds'
  | 'Microseconds'
  | 'Milliseconds'
  | 'Bytes'
  | 'Kilobytes'
  | 'Megabytes'
  | 'Gigabytes'
  | 'Terabytes'
  | 'Bits'
  | 'Kilobits'
  | 'Megabits'
  | 'Gigabits'
  | 'Terabits'
  | 'Percent'
  | 'Count'
  | 'Bytes/Second'
  | 'Kilobytes/Second'
  | 'Megabytes/Second'
  | 'Gigabytes/Second'
  | 'Terabytes/Second'
  | 'Bits/Second'
  | 'Kilobits/Second'
  | 'Megabits/Second'
  | 'Gigabits/Second'
  | 'Terabits/Second'
  | 'Count/Second'
  | 'None';

/** EMF limits (spec above). */
export const EMF_LIMITS = {
  maxDimensionsPerSet: 30,
  maxMetricsPerDirective: 100,
  maxValuesPerMetric: 100,
  maxNameLength: 255,
} as const;

/** One metric of a document. */
export interface EmfMetric {
  readonly name: string;
  readonly unit: EmfUnit;
  readonly value: number | readonly number[];
  /** 1 = high resolution, 60 = standard (the default when omitted). */
  readonly storageResolution?: 1 | 60;
}

/** What one EMF document holds: namespace, one dimension set, metrics (validated by createEmfDocument). */
export interface EmfDocumentInput {
  readonly namespace: string;
  /** Dimension name -> value; emitted as one DimensionSet (all names, in insertion order). */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly metrics: readonly EmfMetric[];
  /** Milliseconds since the epoch (default: now). */
  readonly timestamp?: number;
  /** Extra root members for log search (not metrics), e.g. a request id. */
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
}

/** MetricDefinition of a directive (the value itself is a root member). */
export interface EmfMetricDefinition {
  Name: string;
  Unit: EmfUnit;
  StorageResolution?: 1 | 60;
}

/** MetricDirective: which root members are metrics, in which namespace, with which dimension sets. */
export interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: EmfMetricDefinition[];
}

/** An EMF document: `_aws` metadata plus root members holding dimension and metric values. */
export type EmfDocument = {
  _aws: { Timestamp: number; CloudWatchMetrics: EmfDirective[] };
} & Record<string, unknown>;

function checkName(kind: string, name: string): void {
  if (name.length === 0 || name.length > EMF_LIMITS.maxNameLength) {
    throw new RangeError(`EMF ${kind} "${name}" must be 1-${EMF_LIMITS.maxNameLength} characters`);
  }
}

/** Validate names and limits once (call at construction time, not per document). */
export function validateEmfShape(namespace: string, dimensionNames: readonly string[], metricNames: readonly string[]): void {
  checkName('namespace', namespace);
  if (dimensionNames.length > EMF_LIMITS.maxDimensionsPerSet) {
    throw new RangeError(`EMF allows at most ${EMF_LIMITS.maxDimensionsPerSet} dimensions per set, got ${dimensionNames.length}`);
  }
  if (metricNames.length > EMF_LIMITS.maxMetricsPerDirective) {
    throw new RangeError(`EMF allows at most ${EMF_LIMITS.maxMetricsPerDirective} metrics per directive, got ${metricNames.length}`);
  }
  const seen = new Set<string>(['_aws']);
  for (const name of [...dimensionNames, ...metricNames]) {
    checkName('member', name);
    if (seen.has(name)) throw new RangeError(`EMF member "${name}" is used twice (dimension and metric names share the root)`);
    seen.add(name);
  }
}

/** Build an EMF document (validates it). */
export function createEmfDocument(input: EmfDocumentInput): EmfDocument {
  const dimensionNames = Object.keys(input.dimensions);
  validateEmfShape(
    input.namespace,
    dimensionNames,
    input.metrics.map((m) => m.name),
  );
  const doc: EmfDocument = {
    _aws: {
      Timestamp: input.timestamp ?? Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: input.namespace,
          Dimensions: [dimensionNames],
          Metrics: input.metrics.map((m) =>
            m.storageResolution === undefined
              ? { Name: m.name, Unit: m.unit }
              : { Name: m.name, Unit: m.unit, StorageResolution: m.storageResolution },
          ),
        },
      ],
    },
  };
  for (const [key, value] of Object.entries(input.properties ?? {})) doc[key] = value;
  for (const name of dimensionNames) doc[name] = input.dimensions[name];
  for (const m of input.metrics) {
    if (typeof m.value !== 'number' && m.value.length > EMF_LIMITS.maxValuesPerMetric) {
      throw new RangeError(`EMF metric "${m.name}" has more than ${EMF_LIMITS.maxValuesPerMetric} values`);
    }
    const values = typeof m.value === 'number' ? [m.value] : m.value;
    if (values.some((v) => !Number.isFinite(v))) throw new RangeError(`EMF metric "${m.name}" must be finite`);
    doc[m.name] = typeof m.value === 'number' ? m.value : [...m.value];
  }
  return doc;
}

/** One EMF log line (JSON + newline). */
export function formatEmf(input: EmfDocumentInput): string {
  return `${JSON.stringify(createEmfDocument(input))}\n`;
}

/** Where EMF lines go. In Lambda that is stdout, which CloudWatch Logs ingests. */
export type EmfWriter = (line: string) => void;

/** Writes to process.stdout (the Lambda log stream). */
export const stdoutEmfWriter: EmfWriter = (line) => {
  process.stdout.write(line);
};
