/**
 * Alarm thresholds derived from the pipeline definition, not magic numbers. Pure functions so
 * tests can check the arithmetic and the stack reads them in one place.
 */
import type { ConsumerDefinition, StreamDefinition } from '../pipeline';
import { SQS_LIMITS } from '../pipeline/limits';
import {
  consumerIteratorAgeThresholdSeconds,
  onFailureRedriveWindowSeconds,
  queueAgeThresholdSeconds,
  streamIteratorAgeThresholdSeconds,
} from '../pipeline/record-lifetime';

/** CloudWatch periods the definition allows for alarms (standard-resolution metrics). */
export const ALARM_PERIODS = [60, 300, 900, 3600] as const;

// The lifetime arithmetic lives with the definition, which refuses alarms that could only fire after
// the loss (pipeline/record-lifetime.ts); these are its thresholds in CloudWatch's units.
export { recordLifetimeSeconds } from '../pipeline/record-lifetime';

/** Lambda `IteratorAge` (Maximum, ms) threshold: explicit `iteratorAgeSeconds`, else a fraction of the record lifetime. */
export function consumerIteratorAgeThresholdMs(consumer: ConsumerDefinition, stream: StreamDefinition): number {
  return Math.round(consumerIteratorAgeThresholdSeconds(consumer, stream) * 1000);
}

/**
 * Kinesis `GetRecords.IteratorAgeMilliseconds` (Maximum) threshold: a fraction of the shortest record
 * lifetime of the stream's consumers (the retention when none reads it).
 */
export function streamIteratorAgeThresholdMs(stream: StreamDefinition, consumers: readonly ConsumerDefinition[]): number {
  return Math.round(streamIteratorAgeThresholdSeconds(stream, consumers) * 1000);
}

/**
 * `ApproximateAgeOfOldestMessage` (Maximum, seconds) threshold of a consumer's on-failure queue: half
 * of the time its records stay redrivable (retention minus MaximumRecordAgeInSeconds, at most 14 days).
 */
export function onFailureQueueAgeThresholdSeconds(consumer: ConsumerDefinition, stream: StreamDefinition): number {
  return queueAgeThresholdSeconds(onFailureRedriveWindowSeconds(consumer, stream));
}

/** Same for a queue whose messages carry the full payload (quarantine, asynchronous on-failure): half of the SQS retention. */
export function payloadQueueAgeThresholdSeconds(): number {
  return queueAgeThresholdSeconds(SQS_LIMITS.maxRetentionSeconds);
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
