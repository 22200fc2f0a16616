/**
 * Rule 13, poison records. With ReportBatchItemFailures a record that fails on every delivery stays at
 * the head of every retried batch (Lambda retries from the lowest reported sequence number,
 * "Configuring partial batch response with Kinesis Data Streams and Lambda"); when the mapping's
 * retries run out (MaximumRetryAttempts), Lambda sends the whole remaining batch to the on-failure
 * destination, records that already took effect included ("Using Lambda with Kinesis", error handling).
 * So a record that fails the same way again and again while the records around it succeed is
 * quarantined (payload, last error, attempt count) instead of being reported once more.
 *
 * The rule that tells a poison record from a downstream outage, per invocation:
 * - handlers that ran: S succeeded, F failed (transient errors; duplicates and records without a
 *   handler do not count);
 * - a failed delivery is ISOLATED when S >= 1 and the failures with its error signature
 *   (`<error name>: <message>`) are at most 10 % of S + F: most of the batch works, this record does not;
 * - the invocation is an OUTAGE when F >= 2 and S = 0: nothing works, so nobody is blamed;
 * - a record is POISON when its last K consecutive deliveries failed with the same signature
 *   (counted in the durable store, keyed by stream, shard, sequence and sub-sequence number), at least
 *   one of them was isolated, and the current invocation is not an outage.
 * A downstream outage therefore never empties the stream into the quarantine: its failures are not
 * isolated (S = 0, or many records share the error). A record that failed while the downstream was
 * down and fails again after it recovered is isolated from then on, and K deliveries later it is poison.
 */
import type { Logger } from '../../telemetry/logger';
import type { DurableRecordStore } from './durable-store';
import { ItemStatus, type RecordItem } from './record-item';

/** Share of an invocation's handled records that may fail with one signature and still count as isolated. */
export const ISOLATED_FAILURE_SHARE = 0.1;

/** What isolation needs of the invocation's outcome. */
export interface FailureLists {
  readonly retry: RecordItem[];
  readonly toQuarantine: RecordItem[];
}

/** `<error name>: <message>` (first 300 characters): how "the same way" is judged. */
export function failureSignature(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`;
  return text.slice(0, 300);
}

/**
 * Counts this invocation's handler failures in `store` and moves the poison records from `retry` to
 * `toQuarantine` (kind 'poison-record', with the attempt count). Store errors are logged: the record
 * is then simply retried.
 */
export async function isolatePoisonRecords(outcome: FailureLists, successes: number, store: DurableRecordStore, threshold: number, log: Logger): Promise<void> {
  const failed = outcome.retry.filter((item) => item.transient === 'handler-error');
  if (failed.length === 0) return;
  const bySignature = new Map<string, number>();
  const signatures = failed.map((item) => {
    const signature = failureSignature(item.transientError);
    bySignature.set(signature, (bySignature.get(signature) ?? 0) + 1);
    return signature;
  });
  const handled = successes + failed.length;
  const outage = successes === 0 && failed.length >= 2;
  const poison = new Set<RecordItem>();
  await Promise.all(
    failed.map(async (item, index) => {
      const signature = signatures[index]!;
      const isolated = successes >= 1 && bySignature.get(signature)! <= ISOLATED_FAILURE_SHARE * handled;
      try {
        const streak = await store.recordFailure(
          { streamArn: item.streamArn, shardId: item.shardId, sequenceNumber: item.sequenceNumber, subSequenceNumber: item.subSequenceNumber },
          signature,
          isolated,
        );
        if (streak.attempts >= threshold && streak.isolated && !outage) {
          item.status = ItemStatus.ToQuarantine;
          item.permanent = {
            kind: 'poison-record',
            message: `failed ${streak.attempts} consecutive deliveries with the same error while other records succeeded: ${signature}`,
            attempts: streak.attempts,
          };
          item.transient = undefined;
          item.transientError = undefined;
          poison.add(item);
        }
      } catch (error) {
        log.warn({ err: error, sequenceNumber: item.sequenceNumber }, 'could not count a failed delivery (poison-record detection); the record is retried');
      }
    }),
  );
  if (outage) log.warn({ failed: failed.length }, 'every record that ran failed: treated as a downstream outage, no record is blamed');
  if (poison.size === 0) return;
  const keep = outcome.retry.filter((item) => !poison.has(item));
  outcome.retry.length = 0;
  outcome.retry.push(...keep);
  outcome.toQuarantine.push(...poison);
}
