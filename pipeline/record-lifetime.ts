/**
 * How long a record can wait, and when the alarms watching it fire: the arithmetic the definition
 * schema checks (an alarm that can only fire after the loss is refused) and infra turns into alarm
 * thresholds (infra/thresholds.ts). Pure functions of the validated definition; reasoning in
 * docs/deploy.md ("Record age, retention and alarms").
 *
 * AWS rules used ("Lambda with Kinesis", services-kinesis-parameters and services-kinesis-errors):
 * - a mapping discards a record older than MaximumRecordAgeInSeconds (-1 = never) to its on-failure
 *   destination; the destination gets only a pointer (shard, sequence numbers), not the data;
 * - a record past the stream's retention is gone from the stream, pointer or not;
 * - SQS keeps a message at most 1,209,600 s (14 days, "Amazon SQS message quotas").
 */
import { MAPPING_LIMITS, SQS_LIMITS } from './limits';

/** The parts of the definition this needs (structural, so infra and tests can pass plain objects). */
export interface LifetimeStream {
  retentionHours: number;
  alarms: { iteratorAgeFractionOfRetention: number; periodSeconds: number };
}
export interface LifetimeConsumer {
  mapping: { maximumRecordAgeInSeconds: number; onFailureDestination: 'queue' | 'none' };
  alarms: { iteratorAgeSeconds?: number | undefined; iteratorAgeFractionOfRetention: number; periodSeconds: number; evaluationPeriods: number };
}

const HOUR_SECONDS = 3600;

/** Fraction of a queue message's useful life after which its age alarm fires (half of it is left to act). */
export const QUEUE_AGE_ALARM_FRACTION = 0.5;

export function retentionSeconds(stream: LifetimeStream): number {
  return stream.retentionHours * HOUR_SECONDS;
}

/**
 * How long a record may wait before this consumer loses it: the stream's retention, or sooner the
 * mapping's MaximumRecordAgeInSeconds, after which Lambda discards it to the on-failure destination.
 */
export function recordLifetimeSeconds(consumer: LifetimeConsumer, stream: LifetimeStream): number {
  const retention = retentionSeconds(stream);
  const maxAge = consumer.mapping.maximumRecordAgeInSeconds;
  return maxAge === MAPPING_LIMITS.maximumRecordAgeInSeconds.infinite ? retention : Math.min(retention, maxAge);
}

/** Lambda `IteratorAge` threshold (s): explicit `iteratorAgeSeconds`, else a fraction of the record lifetime. */
export function consumerIteratorAgeThresholdSeconds(consumer: LifetimeConsumer, stream: LifetimeStream): number {
  return consumer.alarms.iteratorAgeSeconds ?? consumer.alarms.iteratorAgeFractionOfRetention * recordLifetimeSeconds(consumer, stream);
}

/**
 * The shortest record lifetime among the stream's consumers that keep a trace of what they discard
 * (an on-failure queue); the retention when there is none. A consumer without an on-failure
 * destination discards old records by design (the stack warns about it), so it does not pin the alarms.
 */
export function streamRecordLifetimeSeconds(stream: LifetimeStream, consumers: readonly LifetimeConsumer[]): number {
  return Math.min(retentionSeconds(stream), ...consumers.filter(keepsTrace).map((c) => recordLifetimeSeconds(c, stream)));
}

function keepsTrace(consumer: LifetimeConsumer): boolean {
  return consumer.mapping.onFailureDestination === 'queue';
}

/**
 * Kinesis `GetRecords.IteratorAgeMilliseconds` threshold (s): a fraction of the shortest record
 * lifetime of the stream's consumers, so the stream-wide alarm fires before the first of them
 * discards records (a fraction of the bare retention would fire only after a shorter record age).
 */
export function streamIteratorAgeThresholdSeconds(stream: LifetimeStream, consumers: readonly LifetimeConsumer[]): number {
  return stream.alarms.iteratorAgeFractionOfRetention * streamRecordLifetimeSeconds(stream, consumers);
}

/**
 * How long an on-failure record stays redrivable: its records were discarded at an age of at most
 * MaximumRecordAgeInSeconds and leave the stream at the retention, and the message itself leaves SQS
 * after 14 days. 0 when the record age reaches the retention. With -1 records are only discarded
 * after their retries (usually young) and otherwise expire unreported at the retention, which the
 * iterator-age alarms cover: the window is taken as the retention (the policy checks flag -1).
 */
export function onFailureRedriveWindowSeconds(consumer: LifetimeConsumer, stream: LifetimeStream): number {
  const maxAge = consumer.mapping.maximumRecordAgeInSeconds;
  const discardedAt = maxAge === MAPPING_LIMITS.maximumRecordAgeInSeconds.infinite ? 0 : maxAge;
  return Math.max(0, Math.min(SQS_LIMITS.maxRetentionSeconds, retentionSeconds(stream) - discardedAt));
}

/** `ApproximateAgeOfOldestMessage` threshold (s) for a queue whose messages are useful for `windowSeconds`. */
export function queueAgeThresholdSeconds(windowSeconds: number): number {
  return Math.floor(windowSeconds * QUEUE_AGE_ALARM_FRACTION);
}

export interface LifetimeProblem {
  path: (string | number)[];
  message: string;
}

const hours = (seconds: number): string => `${+(seconds / HOUR_SECONDS).toFixed(2)} h`;

/**
 * Combinations where an alarm could only fire after the records it watches are discarded or
 * expired. An alarm needs its threshold plus `evaluationPeriods` periods of breaching data to fire.
 */
export function lifetimeProblems(
  streams: Readonly<Record<string, LifetimeStream>>,
  consumers: Readonly<Record<string, LifetimeConsumer & { stream: string }>>,
): LifetimeProblem[] {
  const problems: LifetimeProblem[] = [];
  for (const [name, consumer] of Object.entries(consumers)) {
    const stream = streams[consumer.stream];
    if (!stream) continue;
    // Without an on-failure destination the mapping discards old records by design (warned at synth).
    if (!keepsTrace(consumer)) continue;
    const lifetime = recordLifetimeSeconds(consumer, stream);
    const fires = consumerIteratorAgeThresholdSeconds(consumer, stream) + consumer.alarms.periodSeconds * consumer.alarms.evaluationPeriods;
    if (fires >= lifetime) {
      problems.push({
        path: ['consumers', name, 'alarms'],
        message:
          `the iterator-age alarm fires at the earliest after ${hours(fires)} (threshold + ${consumer.alarms.evaluationPeriods} x ${consumer.alarms.periodSeconds} s), ` +
          `but records are discarded after ${hours(lifetime)} (min of retention ${stream.retentionHours} h and maximumRecordAgeInSeconds): lower the threshold or raise the record age`,
      });
    }
    const window = onFailureRedriveWindowSeconds(consumer, stream);
    const queueFires = queueAgeThresholdSeconds(window) + consumer.alarms.periodSeconds;
    if (queueFires >= window) {
      problems.push({
        path: ['consumers', name, 'mapping', 'maximumRecordAgeInSeconds'],
        message:
          `${consumer.mapping.maximumRecordAgeInSeconds} s leaves ${hours(window)} between a discard and the end of the ${stream.retentionHours} h retention: ` +
          `the on-failure queue's age alarm cannot fire before its records expire; keep it at least ${2 * consumer.alarms.periodSeconds + 1} s below the retention`,
      });
    }
  }
  for (const [name, stream] of Object.entries(streams)) {
    const readers = Object.values(consumers).filter((c) => streams[c.stream] === stream);
    const lifetime = streamRecordLifetimeSeconds(stream, readers);
    const fires = streamIteratorAgeThresholdSeconds(stream, readers) + stream.alarms.periodSeconds;
    if (fires >= lifetime) {
      problems.push({
        path: ['streams', name, 'alarms'],
        message: `the iterator-age alarm fires at the earliest after ${hours(fires)}, but its consumers discard records after ${hours(lifetime)}: lower iteratorAgeFractionOfRetention or periodSeconds`,
      });
    }
  }
  return problems;
}
