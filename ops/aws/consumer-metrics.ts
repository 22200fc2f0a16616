/**
 * A consumer function's health figures from CloudWatch in one GetMetricData call (CloudWatch API
 * reference, GetMetricData; Lambda metrics in namespace AWS/Lambda by FunctionName):
 * IteratorAge (Maximum, latest minute with data), Errors and Throttles (Sum over the window).
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';

export interface ConsumerMetrics {
  /** Latest IteratorAge Maximum in ms; undefined when no datapoint (no invocations in the window). */
  readonly iteratorAgeMs: number | undefined;
  readonly errors: number;
  readonly throttles: number;
}

export interface MetricWindow {
  readonly start: Date;
  readonly end: Date;
}

/** The last hour ending now. */
export function lastHour(now = new Date()): MetricWindow {
  return { start: new Date(now.getTime() - 3_600_000), end: now };
}

const lambdaMetric = (id: string, functionName: string, metricName: string, stat: string, period: number): MetricDataQuery => ({
  Id: id,
  MetricStat: {
    Metric: { Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: [{ Name: 'FunctionName', Value: functionName }] },
    Period: period,
    Stat: stat,
  },
  ReturnData: true,
});

export async function fetchConsumerMetrics(
  cloudwatch: CloudWatchClient,
  functionNames: readonly string[],
  window: MetricWindow,
): Promise<Map<string, ConsumerMetrics>> {
  const queries = functionNames.flatMap((fn, i) => [
    lambdaMetric(`age${i}`, fn, 'IteratorAge', 'Maximum', 60),
    lambdaMetric(`errors${i}`, fn, 'Errors', 'Sum', 3600),
    lambdaMetric(`throttles${i}`, fn, 'Throttles', 'Sum', 3600),
  ]);
  const values = new Map<string, number[]>();
  let next: string | undefined;
  do {
    const out = await cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: window.start,
        EndTime: window.end,
        ScanBy: 'TimestampDescending',
        ...(next !== undefined ? { NextToken: next } : {}),
      }),
    );
    for (const result of out.MetricDataResults ?? []) {
      const list = values.get(result.Id!) ?? [];
      list.push(...(result.Values ?? []));
      values.set(result.Id!, list);
    }
    next = out.NextToken;
  } while (next !== undefined);
  const sum = (id: string) => (values.get(id) ?? []).reduce((a, b) => a + b, 0);
  return new Map(
    functionNames.map((fn, i) => [
      fn,
      { iteratorAgeMs: values.get(`age${i}`)?.[0], errors: sum(`errors${i}`), throttles: sum(`throttles${i}`) },
    ]),
  );
}
