/**
 * Splits metric data into PutMetricData requests that CloudWatch accepts: every datum checked against the
 * per-datum rules, each request within the count and size limits, every datum in exactly one request, in
 * the order given. Shared by telemetry/metric-publisher.ts and consumers/order-metrics/cloudwatch-publisher.ts.
 */
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';

// Limits: CloudWatch API Reference, "PutMetricData"
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html), "MetricDatum"
// (.../API_MetricDatum.html) and "StatisticSet" (.../API_StatisticSet.html).

/**
 * PutMetricData: "Each PutMetricData request is limited to 1 MB in size for HTTP POST requests." Read as
 * 10^6 bytes (the smaller of MB and MiB) and applied to the uncompressed body (see the estimate below).
 */
export const PUT_METRIC_DATA_MAX_REQUEST_BYTES = 1_000_000;
/** Kept free for the HTTP request line and headers (SigV4 authorization, user agent), in case the limit counts them. */
export const PUT_METRIC_DATA_HEADER_ALLOWANCE_BYTES = 16_384;
/** What the serialized body of one request may use. */
export const PUT_METRIC_DATA_BODY_BUDGET_BYTES = PUT_METRIC_DATA_MAX_REQUEST_BYTES - PUT_METRIC_DATA_HEADER_ALLOWANCE_BYTES;
/**
 * PutMetricData: "Each request is also limited to no more than 1000 different metrics (across both the
 * MetricData and EntityMetricData properties)." Counted here as data items, so repeated metrics count too.
 */
export const PUT_METRIC_DATA_MAX_DATA = 1000;
/**
 * PutMetricData: "Using the Values and Counts method enables you to publish up to 150 values per metric with
 * one PutMetricData request." Enforced per datum and per metric (name + dimensions) within one request.
 */
export const PUT_METRIC_DATA_MAX_VALUES_PER_METRIC = 150;
/** MetricDatum, Dimensions: "Array Members: Maximum number of 30 items." */
export const PUT_METRIC_DATA_MAX_DIMENSIONS = 30;
/** MetricDatum, MetricName: "Length Constraints: Minimum length of 1. Maximum length of 255." */
export const PUT_METRIC_DATA_MAX_METRIC_NAME_LENGTH = 255;
/**
 * PutMetricData / MetricDatum (Value, Values): "Values must be in the range of -2^360 to 2^360. In addition,
 * special values (for example, NaN, +Infinity, -Infinity) are not supported."
 */
export const PUT_METRIC_DATA_MAX_ABS_VALUE = 2 ** 360;

/** A datum CloudWatch would reject; thrown before any request is built. */
export class InvalidMetricDatumError extends RangeError {
  constructor(
    readonly index: number,
    readonly metricName: string | undefined,
    readonly reason: string,
  ) {
    super(`PutMetricData datum ${index} (${metricName ?? 'no MetricName'}): ${reason}`);
    this.name = 'InvalidMetricDatumError';
  }
}

export interface ChunkOptions {
  /**
   * Called for each datum that breaks a rule, which is then left out. Without it the first such datum
   * throws InvalidMetricDatumError.
   */
  onRejected?: (error: InvalidMetricDatumError, datum: MetricDatum) => void;
}

/**
 * Which PutMetricData rule the datum breaks, or undefined. Checks the per-datum rules from the pages above:
 * MetricName required (1..255), at most 30 dimensions, Value/Values finite and within ±2^360, at most 150
 * Values, Counts only alongside Values and of the same length ("If you include a Counts array, it must
 * include the same amount of values as the Values array"), StatisticValues with all of SampleCount, Sum,
 * Minimum and Maximum (StatisticSet: each "Required: Yes"), finite.
 */
export function metricDatumProblem(datum: MetricDatum): string | undefined {
  const name = datum.MetricName;
  if (name === undefined || name.length === 0) return 'MetricName is required';
  if (name.length > PUT_METRIC_DATA_MAX_METRIC_NAME_LENGTH) return `MetricName is ${name.length} characters; at most ${PUT_METRIC_DATA_MAX_METRIC_NAME_LENGTH}`;
  const dimensions = datum.Dimensions?.length ?? 0;
  if (dimensions > PUT_METRIC_DATA_MAX_DIMENSIONS) return `${dimensions} dimensions; at most ${PUT_METRIC_DATA_MAX_DIMENSIONS} per metric`;
  if (datum.Value !== undefined && !inValueRange(datum.Value)) return `Value ${datum.Value}: ${VALUE_RULE}`;
  const values = datum.Values;
  if (values !== undefined) {
    if (values.length > PUT_METRIC_DATA_MAX_VALUES_PER_METRIC) return `${values.length} Values; at most ${PUT_METRIC_DATA_MAX_VALUES_PER_METRIC}`;
    const bad = values.find((v) => !inValueRange(v));
    if (bad !== undefined) return `Values contains ${bad}: ${VALUE_RULE}`;
  }
  const counts = datum.Counts;
  if (counts !== undefined) {
    if (counts.length !== (values?.length ?? 0)) return `${counts.length} Counts for ${values?.length ?? 0} Values; Counts must have as many items as Values`;
    const bad = counts.find((c) => !Number.isFinite(c));
    if (bad !== undefined) return `Counts contains ${bad}; NaN and infinite numbers are not supported`;
  }
  const stats = datum.StatisticValues;
  if (stats !== undefined) {
    for (const field of ['SampleCount', 'Sum', 'Minimum', 'Maximum'] as const) {
      const v = stats[field];
      if (v === undefined) return `StatisticValues.${field} is required`;
      if (!Number.isFinite(v)) return `StatisticValues.${field} ${v}; NaN and infinite numbers are not supported`;
    }
  }
  return undefined;
}

/**
 * Upper bound, in bytes, of one datum in the request body.
 *
 * Which encoding: @aws-sdk/client-cloudwatch (3.1164 here) speaks AWS JSON 1.0 (`AwsJson1_0Protocol`, with
 * `awsQueryCompatible`): the body is `{"Namespace":…,"MetricData":[…]}` with the API's member names, strings
 * escaped as JSON.stringify does and numbers written as String(n). The one field written differently is the
 * timestamp: the SDK sends epoch seconds (`1772445600.123`, at most 16 characters for years up to 9999)
 * where JSON.stringify writes a quoted ISO-8601 string (26 or more), so JSON.stringify's length is never
 * smaller. Properties outside the MetricDatum shape are counted though never sent. NaN and ±Infinity
 * would be undercounted (JSON.stringify writes null, the SDK "NaN"); metricDatumProblem rejects them first.
 * The SDK gzips PutMetricData bodies of 10 KiB or more (the operation's requestCompression trait, unless
 * disableRequestCompression): that only makes the wire smaller, so the budget holds with or without it.
 * Older SDK versions used the query protocol, whose form encoding (`MetricData.member.12.Dimensions.member.3.Value=…`)
 * is several times larger: test/telemetry/put-metric-data-chunks.test.ts measures the body the installed SDK
 * really sends, so an SDK change of protocol fails there rather than in production.
 */
export function estimateDatumBytes(datum: MetricDatum): number {
  return Buffer.byteLength(JSON.stringify(datum), 'utf8');
}

/** Bytes of the request body around the data: `{"Namespace":"…","MetricData":[]}`. */
export function estimateEnvelopeBytes(namespace: string): number {
  return Buffer.byteLength(JSON.stringify({ Namespace: namespace, MetricData: [] }), 'utf8');
}

/** Upper bound of the serialized body of one PutMetricData request (envelope, data, commas between them). */
export function estimatePutMetricDataBytes(namespace: string, data: readonly MetricDatum[]): number {
  let bytes = estimateEnvelopeBytes(namespace) + Math.max(0, data.length - 1);
  for (const datum of data) bytes += estimateDatumBytes(datum);
  return bytes;
}

/**
 * Splits data into the fewest consecutive requests that keep every limit above: at most 1000 data, a body
 * within PUT_METRIC_DATA_BODY_BUDGET_BYTES, at most 150 Values per metric. Order is preserved; each valid
 * datum is in exactly one request. An invalid datum throws InvalidMetricDatumError (or goes to onRejected).
 */
export function chunkPutMetricData(namespace: string, data: readonly MetricDatum[], options: ChunkOptions = {}): MetricDatum[][] {
  const envelope = estimateEnvelopeBytes(namespace);
  const requests: MetricDatum[][] = [];
  let current: MetricDatum[] = [];
  let bytes = envelope;
  let valuesPerMetric = new Map<string, number>();
  for (const [index, datum] of data.entries()) {
    const size = estimateDatumBytes(datum);
    const problem =
      metricDatumProblem(datum) ??
      (envelope + size > PUT_METRIC_DATA_BODY_BUDGET_BYTES
        ? `${size} bytes serialized; a request body (namespace included) may use ${PUT_METRIC_DATA_BODY_BUDGET_BYTES}`
        : undefined);
    if (problem !== undefined) {
      const error = new InvalidMetricDatumError(index, datum.MetricName, problem);
      if (options.onRejected === undefined) throw error;
      options.onRejected(error, datum);
      continue;
    }
    const values = datum.Values?.length ?? 0;
    const key = values > 0 ? metricKey(datum) : '';
    const full =
      current.length === PUT_METRIC_DATA_MAX_DATA ||
      bytes + 1 + size > PUT_METRIC_DATA_BODY_BUDGET_BYTES ||
      (values > 0 && (valuesPerMetric.get(key) ?? 0) + values > PUT_METRIC_DATA_MAX_VALUES_PER_METRIC);
    if (current.length > 0 && full) {
      requests.push(current);
      current = [];
      bytes = envelope;
      valuesPerMetric = new Map();
    }
    bytes += (current.length > 0 ? 1 : 0) + size;
    current.push(datum);
    if (values > 0) valuesPerMetric.set(key, (valuesPerMetric.get(key) ?? 0) + values);
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

const VALUE_RULE = 'values must lie in -2^360..2^360; NaN and infinite numbers are not supported';

function inValueRange(value: number): boolean {
  return Number.isFinite(value) && Math.abs(value) <= PUT_METRIC_DATA_MAX_ABS_VALUE;
}

/** A metric is its name and dimensions (in any order); the unit does not make a different metric. */
function metricKey(datum: MetricDatum): string {
  const dimensions = (datum.Dimensions ?? []).map((d) => JSON.stringify([d.Name ?? '', d.Value ?? ''])).sort();
  return JSON.stringify([datum.MetricName, dimensions]);
}
