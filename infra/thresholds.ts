/**
 * Alarm thresholds derived from the pipeline definition, not magic numbers. Pure functions so
 * tests can check the arithmetic and the stack reads them in one place.
 */
import type { ConsumerDefinition, StreamDefinition } from '../pipeline';

const HOUR_SECONDS = 3600;

/** CloudWatch periods the definition allows for alarms (standard-resolution metrics). */
export const ALARM_PERIODS = [60, 300, 900, 3600] as const;

/**
 * How long a record may wait before it is lost: the stream's retention, or sooner the mapping's
 * MaximumRecordAgeInSeconds, after which Lambda discards it to the on-failure destination
 * ("services-kinesis-parameters": MaximumRecordAgeInSeconds, -1 = until the record expires).
 */
export function recordLifetimeSeconds(consumer: ConsumerDefinition, stream: StreamDefinition): number {
  const retention = stream.retentionHours * HOUR_SECONDS;
  const maxAge = consumer.mapping.maximumRecordAgeInSeconds;
  return maxAge === -1 ? retention : Math.min(retention, maxAge);
}

/**
 * Lambda `IteratorAge` (Maximum, ms) threshold: the consumer's explicit `iteratorAgeSeconds`, else a
 * fraction of the record lifetime, so someone is woken while there is still time to catch up.
 */
export function consumerIteratorAgeThresholdMs(consumer: ConsumerDefinition, stream: StreamDefinition): number {
  const seconds =
    consumer.alarms.iteratorAgeSeconds ?? consumer.alarms.iteratorAgeFractionOfRetention * recordLifetimeSeconds(consumer, stream);
  return Math.round(seconds * 1000);
}

/** Kinesis `GetRecords.IteratorAgeMilliseconds` (Maximum) threshold: a fraction of the retention. */
export function streamIteratorAgeThresholdMs(stream: StreamDefinition): number {
  return Math.round(stream.alarms.iteratorAgeFractionOfRetention * stream.retentionHours * HOUR_SECONDS * 1000);
}

/** Lambda `Duration` p99 threshold (ms): a fraction of the function timeout. */
export function durationThresholdMs(consumer: ConsumerDefinition): number {
  return Math.round(consumer.alarms.durationFractionOfTimeout * consumer.timeoutSeconds * 1000);
}

/**
 * Period of the business alarm: a consumer publishes once per tumbling window and shard, after the
 * window closes, so a period must span at least two windows or a healthy consumer could leave one
 * period empty. Without a window, the consumer's alarm period.
 */
export function businessAlarmPeriodSeconds(consumer: ConsumerDefinition): number {
  const window = consumer.mapping.tumblingWindowInSeconds ?? 0;
  if (window === 0) return consumer.alarms.periodSeconds;
  return ALARM_PERIODS.find((p) => p >= 2 * window) ?? 3600;
}
