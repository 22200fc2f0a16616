/**
 * What order-metrics publishes for one closed window: PutMetricData-shaped data points, built by a
 * pure function from the final window state.
 */
import type { WindowState } from './window-state';

/** Metric names, stable: infra alarms and dashboards refer to them. */
export const BUSINESS_METRIC_NAMES = {
  /** Orders placed in the window; the infra business alarm watches its Sum. */
  ordersPlaced: 'OrdersPlaced',
  ordersPaid: 'OrdersPaid',
  ordersShipped: 'OrdersShipped',
  ordersCancelled: 'OrdersCancelled',
  /** Captured revenue in minor units, one data point per currency (extra dimension `Currency`). */
  revenueMinor: 'RevenueMinor',
} as const;

/** The extra dimension on RevenueMinor. */
export const CURRENCY_DIMENSION = 'Currency';

export interface MetricDimension {
  readonly Name: string;
  readonly Value: string;
}

/** A subset of CloudWatch's MetricDatum, field names as in the PutMetricData API. */
export interface BusinessMetricDatum {
  readonly MetricName: string;
  readonly Dimensions: readonly MetricDimension[];
  readonly Timestamp: Date;
  readonly Value: number;
  readonly Unit: 'Count' | 'None';
}

export interface TumblingWindow {
  /** ISO-8601, as Lambda sends `window.start` / `window.end`. */
  readonly start: string;
  readonly end: string;
}

/** One window's figures, ready for a publisher. */
export interface WindowPublication {
  /** Identifies the window and shard; publishers publish a key once (see publish-ledger.ts and publish-window.ts). */
  readonly windowKey: string;
  readonly data: readonly BusinessMetricDatum[];
  /** Ids of the events counted (not published): kept with the ledger record for the next window (window-seed.ts). */
  readonly eventIds?: readonly string[];
}

/**
 * Stream, shard and window bounds identify a window: shard ids repeat across streams, and an early
 * terminated window (`isWindowTerminatedEarly`) ends before its nominal end.
 */
export function windowKeyOf(eventSourceArn: string, shardId: string, window: TumblingWindow): string {
  return `${eventSourceArn}|${shardId}|${window.start}|${window.end}`;
}

/**
 * Data points of a closed window, timestamped with the window start. Every count is published even when
 * zero, so "no orders placed" is a data point (0), not missing data. Currencies appear in code order.
 */
export function buildWindowMetrics(
  state: WindowState,
  window: TumblingWindow,
  dimensions: readonly MetricDimension[],
): BusinessMetricDatum[] {
  const timestamp = new Date(window.start);
  if (Number.isNaN(timestamp.getTime())) throw new RangeError(`window.start is not a date: ${JSON.stringify(window.start)}`);
  const count = (MetricName: string, Value: number): BusinessMetricDatum => ({
    MetricName,
    Dimensions: dimensions,
    Timestamp: timestamp,
    Value,
    Unit: 'Count',
  });
  const data = [
    count(BUSINESS_METRIC_NAMES.ordersPlaced, state.placed),
    count(BUSINESS_METRIC_NAMES.ordersPaid, state.paid),
    count(BUSINESS_METRIC_NAMES.ordersShipped, state.shipped),
    count(BUSINESS_METRIC_NAMES.ordersCancelled, state.cancelled),
  ];
  for (const currency of Object.keys(state.revenueMinor).sort()) {
    data.push({
      MetricName: BUSINESS_METRIC_NAMES.revenueMinor,
      Dimensions: [...dimensions, { Name: CURRENCY_DIMENSION, Value: currency }],
      Timestamp: timestamp,
      Value: state.revenueMinor[currency as keyof WindowState['revenueMinor']]!,
      Unit: 'None',
    });
  }
  return data;
}

/**
 * PutMetricData accepts time stamps "as long as two weeks in the past and up to two hours into the
 * future" (CloudWatch API reference, PutMetricData). A window outside that range (replaying old
 * records from a long-retention stream) can never be published; retrying it would block the shard.
 */
export const CLOUDWATCH_MAX_PAST_MS = 14 * 24 * 3600 * 1000;
export const CLOUDWATCH_MAX_FUTURE_MS = 2 * 3600 * 1000;

export function isPublishableTimestamp(timestamp: Date, now: Date): boolean {
  const age = now.getTime() - timestamp.getTime();
  // A minute of margin on the past side: the request takes time to reach CloudWatch.
  return age <= CLOUDWATCH_MAX_PAST_MS - 60_000 && -age <= CLOUDWATCH_MAX_FUTURE_MS;
}
