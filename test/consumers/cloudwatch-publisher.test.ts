import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusinessMetricDatum } from '../../consumers/order-metrics/business-metrics';
import { CloudWatchBusinessMetricsPublisher } from '../../consumers/order-metrics/cloudwatch-publisher';
import {
  PUT_METRIC_DATA_BODY_BUDGET_BYTES,
  PUT_METRIC_DATA_MAX_DATA,
  estimatePutMetricDataBytes,
} from '../../telemetry/put-metric-data-chunks';

const cw = mockClient(CloudWatchClient);
afterEach(() => cw.reset());

const T = new Date('2026-03-02T10:00:00Z');
const DIMS = [{ Name: 'Stage', Value: 'prod' }];
const DATA: BusinessMetricDatum[] = [
  { MetricName: 'OrdersPlaced', Dimensions: DIMS, Timestamp: T, Value: 12, Unit: 'Count' },
  { MetricName: 'RevenueMinor', Dimensions: [...DIMS, { Name: 'Currency', Value: 'EUR' }], Timestamp: T, Value: 98_765, Unit: 'None' },
];

function publisher() {
  return new CloudWatchBusinessMetricsPublisher({ client: new CloudWatchClient({ region: 'eu-west-1' }), namespace: 'Orders/Business' });
}

describe('CloudWatchBusinessMetricsPublisher', () => {
  it('sends exactly one PutMetricData with the namespace, dimensions, window-start timestamp and units', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    expect(await publisher().publish({ windowKey: 'w1', data: DATA })).toBe('published');
    const calls = cw.commandCalls(PutMetricDataCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      Namespace: 'Orders/Business',
      MetricData: [
        { MetricName: 'OrdersPlaced', Dimensions: [{ Name: 'Stage', Value: 'prod' }], Timestamp: T, Value: 12, Unit: 'Count' },
        {
          MetricName: 'RevenueMinor',
          Dimensions: [
            { Name: 'Stage', Value: 'prod' },
            { Name: 'Currency', Value: 'EUR' },
          ],
          Timestamp: T,
          Value: 98_765,
          Unit: 'None',
        },
      ],
    });
  });

  it('publishes a window key once per container; a failed call frees the key for the retry', async () => {
    const p = publisher();
    cw.on(PutMetricDataCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' })).resolves({});
    await expect(p.publish({ windowKey: 'w1', data: DATA })).rejects.toThrow('Rate exceeded');
    expect(await p.publish({ windowKey: 'w1', data: DATA })).toBe('published');
    expect(await p.publish({ windowKey: 'w1', data: DATA })).toBe('already-published');
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(2);
  });

  it('splits more than 1000 data points into requests of at most 1000, in order', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const many: BusinessMetricDatum[] = Array.from({ length: 2345 }, (_, i) => ({ MetricName: `M${i}`, Dimensions: [], Timestamp: T, Value: i, Unit: 'Count' }));
    await publisher().publish({ windowKey: 'big', data: many });
    const sizes = cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input.MetricData!.length);
    expect(sizes).toEqual([PUT_METRIC_DATA_MAX_DATA, PUT_METRIC_DATA_MAX_DATA, 345]);
    const names = cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData!.map((d) => d.MetricName));
    expect(names).toEqual(many.map((d) => d.MetricName));
  });

  it('keeps each request under the size budget when data points are large', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const wide = Array.from({ length: 29 }, (_, i) => ({ Name: `Dimension${i}`, Value: 'v'.repeat(255) }));
    const data: BusinessMetricDatum[] = Array.from({ length: 300 }, (_, i) => ({ MetricName: `M${i}`, Dimensions: wide, Timestamp: T, Value: i, Unit: 'Count' }));
    await publisher().publish({ windowKey: 'wide', data });
    const inputs = cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input);
    expect(inputs.length).toBeGreaterThan(1);
    for (const input of inputs) expect(estimatePutMetricDataBytes(input.Namespace!, input.MetricData!)).toBeLessThanOrEqual(PUT_METRIC_DATA_BODY_BUDGET_BYTES);
    expect(inputs.flatMap((i) => i.MetricData!.map((d) => d.MetricName))).toEqual(data.map((d) => d.MetricName));
  });

  it('rejects non-finite values before calling CloudWatch', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const p = publisher();
    await expect(p.publish({ windowKey: 'nan', data: [{ ...DATA[0]!, Value: Number.NaN }] })).rejects.toThrow(/NaN/);
    // A valid window after an invalid one in the same call: nothing of the call is sent, the key is free again.
    await expect(p.publish({ windowKey: 'inf', data: [DATA[0]!, { ...DATA[1]!, Value: Number.POSITIVE_INFINITY }] })).rejects.toThrow(/Infinity/);
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(0);
    expect(await p.publish({ windowKey: 'inf', data: DATA })).toBe('published');
  });
});
