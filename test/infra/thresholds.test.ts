/** Derived thresholds and mapping settings: pure functions of the definition. */
import { describe, expect, it } from 'vitest';
import { pipeline, type ConsumerDefinition, type StreamDefinition } from '../../pipeline';
import { eventSourceMappingSettings } from '../../infra/mapping-settings';
import {
  businessAlarmPeriodSeconds,
  consumerIteratorAgeThresholdMs,
  durationThresholdMs,
  onFailureQueueAgeThresholdSeconds,
  payloadQueueAgeThresholdSeconds,
  recordLifetimeSeconds,
  streamIteratorAgeThresholdMs,
} from '../../infra/thresholds';

const stream: StreamDefinition = pipeline.streams['orders']!;
const metrics: ConsumerDefinition = pipeline.consumers['order-metrics']!;
const review: ConsumerDefinition = pipeline.consumers['order-review']!;
const withMapping = (c: ConsumerDefinition, m: Partial<ConsumerDefinition['mapping']>): ConsumerDefinition => ({ ...c, mapping: { ...c.mapping, ...m } });

describe('thresholds', () => {
  it('record lifetime is the retention, or MaximumRecordAgeInSeconds when shorter', () => {
    expect(recordLifetimeSeconds(metrics, stream)).toBe(43_200);
    expect(recordLifetimeSeconds(withMapping(metrics, { maximumRecordAgeInSeconds: -1 }), stream)).toBe(24 * 3600);
    expect(recordLifetimeSeconds(withMapping(metrics, { maximumRecordAgeInSeconds: 604_800 }), stream)).toBe(24 * 3600);
  });

  it('consumer iterator age: explicit seconds win, else the fraction of the record lifetime', () => {
    expect(consumerIteratorAgeThresholdMs(metrics, stream)).toBe(4_320_000);
    expect(consumerIteratorAgeThresholdMs({ ...metrics, alarms: { ...metrics.alarms, iteratorAgeFractionOfRetention: 0.5 } }, stream)).toBe(21_600_000);
    expect(consumerIteratorAgeThresholdMs({ ...metrics, alarms: { ...metrics.alarms, iteratorAgeSeconds: 42 } }, stream)).toBe(42_000);
  });

  it('stream iterator age is a fraction of the shortest record lifetime of its consumers (the retention without consumers)', () => {
    // 7 days of retention, consumers discard after 12 h: 10 % of 12 h, not 10 % of 7 days (16.8 h, after the discard).
    const week = { ...stream, retentionHours: 168 };
    expect(streamIteratorAgeThresholdMs(week, [metrics, review])).toBe(4_320_000);
    expect(streamIteratorAgeThresholdMs(week, [withMapping(metrics, { maximumRecordAgeInSeconds: 3600 }), review])).toBe(360_000);
    expect(streamIteratorAgeThresholdMs(week, [])).toBe(60_480_000);
  });

  it('queue age alarms at half of the time a message stays useful: on-failure = retention - record age (at most 14 days), payload queues = 14 days', () => {
    expect(onFailureQueueAgeThresholdSeconds(metrics, stream)).toBe(21_600); // (24 h - 12 h) / 2
    expect(onFailureQueueAgeThresholdSeconds(metrics, { ...stream, retentionHours: 168 })).toBe(280_800); // (168 h - 12 h) / 2
    expect(onFailureQueueAgeThresholdSeconds(metrics, { ...stream, retentionHours: 8760 })).toBe(604_800); // capped by SQS's 14 days
    expect(onFailureQueueAgeThresholdSeconds(withMapping(metrics, { maximumRecordAgeInSeconds: -1 }), stream)).toBe(43_200); // -1: the retention / 2
    expect(payloadQueueAgeThresholdSeconds()).toBe(604_800);
  });

  it('duration is a fraction of the timeout', () => {
    expect(durationThresholdMs(metrics)).toBe(48_000);
    expect(durationThresholdMs(review)).toBe(24_000);
  });

  it('business alarm period spans at least two tumbling windows', () => {
    expect(businessAlarmPeriodSeconds(metrics)).toBe(300);
    expect(businessAlarmPeriodSeconds(withMapping(metrics, { tumblingWindowInSeconds: 30 }))).toBe(60);
    expect(businessAlarmPeriodSeconds(withMapping(metrics, { tumblingWindowInSeconds: 300 }))).toBe(900);
    expect(businessAlarmPeriodSeconds(withMapping(metrics, { tumblingWindowInSeconds: 900 }))).toBe(3600);
    expect(businessAlarmPeriodSeconds(withMapping(metrics, { tumblingWindowInSeconds: undefined }))).toBe(metrics.alarms.periodSeconds);
  });
});

describe('eventSourceMappingSettings', () => {
  it('serialises mapping filter patterns (FilterCriteria.Filters[].Pattern is a JSON string)', () => {
    expect(eventSourceMappingSettings({ ...review.mapping, filterPatterns: [{ data: { type: ['order.placed'] } }] }).filterCriteria).toEqual({
      filter: [{ pattern: '{"data":{"type":["order.placed"]}}' }],
    });
  });

  it('writes every setting and converts the timestamp to RFC 3339 UTC', () => {
    expect(
      eventSourceMappingSettings({
        ...review.mapping,
        startingPosition: 'AT_TIMESTAMP',
        startingPositionTimestamp: '2026-03-01T12:00:00+02:00',
        tumblingWindowInSeconds: 0,
        filterPatterns: [],
      }),
    ).toEqual({
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0,
      startingPosition: 'AT_TIMESTAMP',
      startingPositionTimestamp: '2026-03-01T10:00:00.000Z',
      parallelizationFactor: 2,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 5,
      maximumRecordAgeInSeconds: 43_200,
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('omits filters when there are none and response types when partial batch responses are off', () => {
    const settings = eventSourceMappingSettings({ ...metrics.mapping, reportBatchItemFailures: false });
    expect(settings.functionResponseTypes).toEqual([]);
    expect(settings).not.toHaveProperty('filterCriteria');
    expect(settings.tumblingWindowInSeconds).toBe(60);
  });
});
