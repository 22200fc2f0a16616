/**
 * The shared PutMetricData split, checked over many generated inputs against what the installed SDK
 * really sends: requests go through a real CloudWatchClient to a local capturing endpoint, and the
 * limits are asserted on the received bytes, not on the module's own estimate.
 */
import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BusinessMetricDatum } from '../../consumers/order-metrics/business-metrics';
import { CloudWatchBusinessMetricsPublisher } from '../../consumers/order-metrics/cloudwatch-publisher';
import { mulberry32 } from '../../schemas/seeded-random';
import { createLogger } from '../../telemetry/logger';
import { MetricPublisher } from '../../telemetry/metric-publisher';
import {
  InvalidMetricDatumError,
  PUT_METRIC_DATA_BODY_BUDGET_BYTES,
  PUT_METRIC_DATA_MAX_ABS_VALUE,
  PUT_METRIC_DATA_MAX_DATA,
  PUT_METRIC_DATA_MAX_DIMENSIONS,
  PUT_METRIC_DATA_MAX_REQUEST_BYTES,
  PUT_METRIC_DATA_MAX_VALUES_PER_METRIC,
  chunkPutMetricData,
  estimateDatumBytes,
  estimatePutMetricDataBytes,
  metricDatumProblem,
} from '../../telemetry/put-metric-data-chunks';
import { startPutMetricDataCapture, type CapturedPutMetricData, type JsonMetricDatum, type PutMetricDataCapture } from '../support/put-metric-data-capture';

let capture: PutMetricDataCapture;
beforeAll(async () => {
  capture = await startPutMetricDataCapture();
});
afterAll(async () => {
  await capture?.close();
});
beforeEach(() => {
  capture.requests.length = 0;
});

// ---- generated inputs -------------------------------------------------------------------------

/** Seeded, so a failing case can be replayed from its seed. */
const rng = mulberry32;

type Gen = ReturnType<typeof rng>;
const int = (r: Gen, min: number, max: number) => min + Math.floor(r() * (max - min + 1));
const pick = <T>(r: Gen, items: readonly T[]): T => items[int(r, 0, items.length - 1)]!;

/** Characters whose encoded size differs from their length: escapes, multi-byte UTF-8, a surrogate pair. */
const AWKWARD = ['"', '\\', '\n', '\u0001', 'é', '€', '😀', '\u2028', '/', '<'];
function text(r: Gen, length: number, awkward: boolean): string {
  let s = '';
  while (s.length < length) s += awkward && r() < 0.2 ? pick(r, AWKWARD) : String.fromCharCode(int(r, 0x61, 0x7a));
  return s.slice(0, length).replace(/[\ud800-\udbff]$/, 'x');
}
const double = (r: Gen) => (r() - 0.5) * 10 ** int(r, -300, 107);
const T0 = Date.UTC(2026, 2, 2, 10);

function dimensions(r: Gen, count: number, valueLength: number, awkward: boolean): MetricDatum['Dimensions'] {
  return Array.from({ length: count }, (_, i) => ({ Name: `${text(r, int(r, 1, 40), awkward)}${i}`, Value: text(r, valueLength, awkward) }));
}

/** One datum; `kind` picks which limit it pushes against. */
function datum(r: Gen, index: number, kind: 'small' | 'values' | 'wide' | 'stats' | 'mixed'): MetricDatum {
  const k = kind === 'mixed' ? pick(r, ['small', 'values', 'wide', 'stats'] as const) : kind;
  const base: MetricDatum = { MetricName: `m${index}-${text(r, int(r, 0, 40), true)}`, Unit: pick(r, ['Count', 'Milliseconds', 'None'] as const) };
  if (r() < 0.7) base.Timestamp = new Date(T0 + int(r, 0, 86_400_000));
  switch (k) {
    case 'small':
      return { ...base, Value: r() < 0.5 ? int(r, 0, 1000) : double(r) };
    case 'values': {
      const n = r() < 0.5 ? PUT_METRIC_DATA_MAX_VALUES_PER_METRIC : int(r, 1, PUT_METRIC_DATA_MAX_VALUES_PER_METRIC);
      const Values = Array.from({ length: n }, () => double(r));
      return { ...base, Values, ...(r() < 0.7 ? { Counts: Values.map(() => int(r, 1, 1e6)) } : {}), Dimensions: dimensions(r, int(r, 0, 5), 30, true) };
    }
    case 'wide':
      return { ...base, Value: double(r), Dimensions: dimensions(r, int(r, 20, PUT_METRIC_DATA_MAX_DIMENSIONS), int(r, 200, 1024), r() < 0.5) };
    case 'stats':
      return {
        ...base,
        StorageResolution: pick(r, [1, 60]),
        StatisticValues: { SampleCount: int(r, 1, 1e9), Sum: double(r), Minimum: double(r), Maximum: double(r) },
        Dimensions: dimensions(r, int(r, 1, 10), int(r, 1, 255), true),
      };
  }
}

/** A datum whose estimated size is exactly `bytes`, padded with dimensions (values up to 1024 characters). */
function datumOfSize(index: number, bytes: number): MetricDatum {
  const d: MetricDatum = { MetricName: `s${index}`, Value: index, Dimensions: [] };
  for (let i = 0; estimateDatumBytes(d) < bytes; i++) {
    const dim = { Name: `d${i}`, Value: '' };
    d.Dimensions!.push(dim);
    const room = bytes - estimateDatumBytes(d);
    if (room < 0) {
      d.Dimensions!.pop();
      d.MetricName += 'x'.repeat(bytes - estimateDatumBytes(d));
      break;
    }
    dim.Value = 'v'.repeat(Math.min(1024, room));
  }
  if (estimateDatumBytes(d) !== bytes) throw new Error(`could not build a datum of ${bytes} bytes`);
  return d;
}

interface Case {
  name: string;
  data: MetricDatum[];
}

function cases(): Case[] {
  const out: Case[] = [];
  for (let seed = 1; seed <= 24; seed++) {
    const r = rng(seed);
    const kind = (['small', 'values', 'wide', 'stats', 'mixed'] as const)[seed % 5]!;
    const count = kind === 'small' ? int(r, 900, 3200) : kind === 'wide' ? int(r, 20, 80) : int(r, 100, 700);
    out.push({ name: `seed ${seed}: ${count} ${kind} data`, data: Array.from({ length: count }, (_, i) => datum(r, i, kind)) });
  }
  // Sizes around the byte limit: k data of budget/k bytes fit one request exactly, or just fail to.
  for (const [seed, perRequest] of [[101, 1000], [102, 999], [103, 400], [104, 57], [105, 32], [106, 1001]] as const) {
    const r = rng(seed);
    const size = Math.floor((PUT_METRIC_DATA_BODY_BUDGET_BYTES - estimatePutMetricDataBytes('Boundary/Test', [])) / perRequest) - 1;
    const data = Array.from({ length: int(r, 2, 3) * perRequest + int(r, -2, 2) }, (_, i) => datumOfSize(i, size + int(r, -1, 1)));
    out.push({ name: `seed ${seed}: data of ~${size} bytes around ${perRequest} per request`, data });
  }
  // One metric repeated with Values arrays: the per-metric 150 values rule decides the split.
  {
    const r = rng(201);
    const dims = [{ Name: 'Stream', Value: 'orders' }, { Name: 'Stage', Value: 'prod' }];
    const data = Array.from({ length: 60 }, (_, i): MetricDatum => {
      const Values = Array.from({ length: int(r, 1, PUT_METRIC_DATA_MAX_VALUES_PER_METRIC) }, () => int(r, 0, 5000));
      return { MetricName: i % 3 === 0 ? 'Other' : 'Latency', Dimensions: r() < 0.5 ? dims : [...dims].reverse(), Values, Counts: Values.map(() => 1), Unit: 'Milliseconds' };
    });
    out.push({ name: 'seed 201: one metric repeated with Values arrays', data });
  }
  return out;
}

// ---- what the SDK sent ------------------------------------------------------------------------

/** The datum as the JSON protocol writes it: timestamps in epoch seconds. */
function asSent(d: MetricDatum): JsonMetricDatum {
  const { Timestamp, ...rest } = d;
  return { ...rest, ...(Timestamp !== undefined ? { Timestamp: Timestamp.getTime() / 1000 } : {}) };
}

function metricOf(d: JsonMetricDatum): string {
  return JSON.stringify([d.MetricName, (d.Dimensions ?? []).map((x) => `${x.Name}=${x.Value}`).sort()]);
}

/**
 * Every PutMetricData limit, on the received request, with the documented numbers written out here rather
 * than taken from the module under test: 1 MB per HTTP POST request (10^6 bytes, counting the request line
 * and headers, and the body before gzip), 1000 data, 30 dimensions, 150 values per metric.
 */
function expectWithinLimits(request: CapturedPutMetricData): void {
  expect(request.target).toBe('GraniteServiceVersion20100801.PutMetricData');
  expect(request.contentType).toBe('application/x-amz-json-1.0');
  expect(request.wireBytes).toBeLessThanOrEqual(1_000_000);
  expect(request.headBytes + request.serializedBytes).toBeLessThanOrEqual(1_000_000);
  const data = request.input.MetricData;
  expect(data.length).toBeGreaterThan(0);
  expect(data.length).toBeLessThanOrEqual(1000);
  const valuesPerMetric = new Map<string, number>();
  for (const d of data) {
    expect(d.Dimensions?.length ?? 0).toBeLessThanOrEqual(30);
    const n = d.Values?.length ?? 0;
    expect(n).toBeLessThanOrEqual(150);
    if (d.Counts !== undefined) expect(d.Counts).toHaveLength(n);
    if (n > 0) valuesPerMetric.set(metricOf(d), (valuesPerMetric.get(metricOf(d)) ?? 0) + n);
  }
  for (const total of valuesPerMetric.values()) expect(total).toBeLessThanOrEqual(150);
}

async function sendAll(namespace: string, data: readonly MetricDatum[]): Promise<MetricDatum[][]> {
  const requests = chunkPutMetricData(namespace, data);
  const client = capture.client();
  for (const MetricData of requests) await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData }));
  return requests;
}

// ---- properties -------------------------------------------------------------------------------

describe('chunkPutMetricData over generated inputs, measured on the wire', () => {
  for (const c of cases()) {
    it(c.name, async () => {
      const namespace = `Generated/${c.name.length}`;
      const requests = await sendAll(namespace, c.data);
      expect(capture.requests).toHaveLength(requests.length);
      for (const [i, sent] of capture.requests.entries()) {
        expectWithinLimits(sent);
        expect(sent.input.Namespace).toBe(namespace);
        // The estimate is an upper bound of the real body, and a close one (timestamps: ISO vs epoch seconds).
        const estimate = estimatePutMetricDataBytes(namespace, requests[i]!);
        const timestamped = requests[i]!.filter((d) => d.Timestamp !== undefined).length;
        expect(estimate).toBeGreaterThanOrEqual(sent.serializedBytes);
        expect(estimate - sent.serializedBytes).toBeLessThanOrEqual(16 * timestamped);
        if (sent.serializedBytes >= 10_240) expect(sent.contentEncoding).toBe('gzip');
      }
      // Every datum exactly once, in order, unchanged.
      expect(capture.requests.flatMap((s) => s.input.MetricData)).toEqual(c.data.map(asSent));
      // No needless split: each request but the last was full for the next datum.
      for (let i = 0; i + 1 < requests.length; i++) {
        const next = requests[i + 1]![0]!;
        const countFull = requests[i]!.length === PUT_METRIC_DATA_MAX_DATA;
        const bytesFull = estimatePutMetricDataBytes(namespace, [...requests[i]!, next]) > PUT_METRIC_DATA_BODY_BUDGET_BYTES;
        const n = next.Values?.length ?? 0;
        const valuesFull =
          n > 0 &&
          requests[i]!.filter((d) => metricOf(asSent(d)) === metricOf(asSent(next))).reduce((s, d) => s + (d.Values?.length ?? 0), n) >
            PUT_METRIC_DATA_MAX_VALUES_PER_METRIC;
        expect(countFull || bytesFull || valuesFull).toBe(true);
      }
    });
  }
});

describe('per-datum rules', () => {
  const ok: MetricDatum = { MetricName: 'M', Value: 1 };
  const dims = (n: number) => Array.from({ length: n }, (_, i) => ({ Name: `D${i}`, Value: 'v' }));
  const values = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('accepts data at each documented limit', () => {
    for (const d of [
      { ...ok, MetricName: 'm'.repeat(255) },
      { ...ok, Dimensions: dims(30) },
      { ...ok, Value: PUT_METRIC_DATA_MAX_ABS_VALUE },
      { ...ok, Value: -PUT_METRIC_DATA_MAX_ABS_VALUE },
      { MetricName: 'M', Values: values(150), Counts: values(150) },
      { MetricName: 'M', Values: values(150) },
      { MetricName: 'M', StatisticValues: { SampleCount: 1, Sum: 2, Minimum: 2, Maximum: 2 } },
    ]) {
      expect(metricDatumProblem(d)).toBeUndefined();
    }
  });

  it.each([
    ['no MetricName', { Value: 1 }, /MetricName is required/],
    ['MetricName above 255 characters', { ...ok, MetricName: 'm'.repeat(256) }, /256 characters; at most 255/],
    ['31 dimensions', { ...ok, Dimensions: dims(31) }, /31 dimensions; at most 30/],
    ['NaN', { ...ok, Value: Number.NaN }, /Value NaN/],
    ['-Infinity', { ...ok, Value: Number.NEGATIVE_INFINITY }, /Value -Infinity/],
    ['above 2^360', { ...ok, Value: PUT_METRIC_DATA_MAX_ABS_VALUE * (1 + 2 ** -52) }, /-2\^360\.\.2\^360/],
    ['151 values', { MetricName: 'M', Values: values(151) }, /151 Values; at most 150/],
    ['NaN among values', { MetricName: 'M', Values: [1, Number.NaN] }, /Values contains NaN/],
    ['Counts longer than Values', { MetricName: 'M', Values: [1], Counts: [1, 1] }, /2 Counts for 1 Values/],
    ['Counts without Values', { MetricName: 'M', Counts: [1] }, /1 Counts for 0 Values/],
    ['StatisticValues without Maximum', { MetricName: 'M', StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1 } }, /StatisticValues\.Maximum is required/],
    ['StatisticValues with Infinity', { MetricName: 'M', StatisticValues: { SampleCount: 1, Sum: Infinity, Minimum: 1, Maximum: 1 } }, /StatisticValues\.Sum Infinity/],
  ] as [string, MetricDatum, RegExp][])('rejects %s before any request is built', (_name, bad, reason) => {
    expect(metricDatumProblem(bad)).toMatch(reason);
    let thrown: unknown;
    try {
      chunkPutMetricData('N', [ok, bad, ok]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidMetricDatumError);
    expect((thrown as InvalidMetricDatumError).index).toBe(1);
    expect((thrown as InvalidMetricDatumError).message).toMatch(reason);
  });

  it('rejects a datum that alone would not fit a request', () => {
    const huge: MetricDatum = { MetricName: 'Huge', Value: 1, Dimensions: [{ Name: 'D', Value: 'x'.repeat(PUT_METRIC_DATA_MAX_REQUEST_BYTES) }] };
    expect(() => chunkPutMetricData('N', [huge])).toThrow(/bytes serialized; a request body \(namespace included\) may use/);
  });

  it('with onRejected, reports and leaves out invalid data and keeps the rest in order', () => {
    const rejected: [number, string | undefined][] = [];
    const data: MetricDatum[] = [
      { MetricName: 'a', Value: 1 },
      { MetricName: 'b', Value: Number.NaN },
      { MetricName: 'c', Value: 3 },
      { MetricName: 'd', Dimensions: dims(31), Value: 4 },
      { MetricName: 'e', Value: 5 },
    ];
    const requests = chunkPutMetricData('N', data, { onRejected: (e, d) => rejected.push([e.index, d.MetricName]) });
    expect(requests.flat().map((d) => d.MetricName)).toEqual(['a', 'c', 'e']);
    expect(rejected).toEqual([
      [1, 'b'],
      [3, 'd'],
    ]);
  });

  it('returns no request for no data', () => {
    expect(chunkPutMetricData('N', [])).toEqual([]);
  });
});

// ---- both publishers, through the real SDK ----------------------------------------------------

describe('both publishers use the shared split', () => {
  it('order-metrics CloudWatchBusinessMetricsPublisher: large windows within every limit, each datum once in order', async () => {
    const r = rng(301);
    const T = new Date(T0);
    const data: BusinessMetricDatum[] = Array.from({ length: 1500 }, (_, i) => ({
      MetricName: `RevenueMinor${i}`,
      Dimensions: Array.from({ length: i % 10 === 0 ? 29 : 2 }, (_, j) => ({ Name: `Dim${j}`, Value: text(r, i % 10 === 0 ? 1024 : 12, true) })),
      Timestamp: T,
      Value: int(r, 0, 1e9),
      Unit: 'None',
    }));
    const publisher = new CloudWatchBusinessMetricsPublisher({ client: capture.client(), namespace: 'Orders/Business' });
    expect(await publisher.publish({ windowKey: 'w', data })).toBe('published');
    expect(capture.requests.length).toBeGreaterThan(2);
    for (const sent of capture.requests) expectWithinLimits(sent);
    expect(capture.requests.flatMap((s) => s.input.MetricData)).toEqual(
      data.map((d) => ({ MetricName: d.MetricName, Dimensions: d.Dimensions, Timestamp: T.getTime() / 1000, Value: d.Value, Unit: d.Unit })),
    );
  });

  it('producer MetricPublisher: many wide series within every limit, each series once', async () => {
    const r = rng(302);
    const publisher = new MetricPublisher({
      namespace: 'Test/Producer',
      endpoint: capture.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDCAPTURE', secretAccessKey: 'capture' },
      intervalMs: 0,
      dimensions: { StreamName: 'orders' },
      logger: createLogger({ name: 'metric-publisher-test', level: 'silent' }),
    });
    const series = Array.from({ length: 1800 }, (_, i) => ({
      name: `Latency${i}`,
      dims: Object.fromEntries(Array.from({ length: i % 5 === 0 ? 29 : 1 }, (_, j) => [`Dim${j}`, text(r, i % 5 === 0 ? 600 : 10, true)])),
    }));
    for (const s of series) for (const v of [3, 1, 2]) publisher.record(s.name, v, 'Milliseconds', s.dims);
    expect(await publisher.flush()).toBe(capture.requests.length);
    await publisher.close();
    expect(capture.requests.length).toBeGreaterThan(2);
    for (const sent of capture.requests) expectWithinLimits(sent);
    const sent = capture.requests.flatMap((s) => s.input.MetricData);
    expect(sent.map((d) => d.MetricName)).toEqual(series.map((s) => s.name));
    for (const d of sent) expect(d.StatisticValues).toEqual({ SampleCount: 3, Sum: 6, Minimum: 1, Maximum: 3 });
  });
});
