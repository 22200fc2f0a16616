/**
 * What to do after an invocation that did not fully succeed (pure).
 *
 * Page "Using AWS Lambda with Amazon Kinesis", Error handling: "If the function receives the records
 * but returns an error, Lambda retries until the records in the batch expire, exceed the maximum age,
 * or reach the configured retry quota. [...] split a failed batch into two batches [...] Splitting a
 * batch does not count towards the retry quota."
 * Page services-kinesis-batchfailurereporting, Bisecting a batch: "If your invocation fails and
 * BisectBatchOnFunctionError is turned on, the batch is bisected regardless of your
 * ReportBatchItemFailures setting. When a partial batch success response is received and both
 * BisectBatchOnFunctionError and ReportBatchItemFailures are turned on, the batch is bisected at the
 * returned sequence number and Lambda retries only the remaining records."
 * Page services-kinesis-parameters: MaximumRetryAttempts -1 = retry until the record expires.
 */

export interface FailurePolicy {
  bisectBatchOnFunctionError: boolean;
  /** -1 = infinite. */
  maximumRetryAttempts: number;
}

export type FailureKind = { kind: 'failure' } | { kind: 'partial'; failedIndex: number };

export type FailurePlan =
  /** Split into [0, at) and [at, n); both halves are retried, neither consumes a retry. */
  | { action: 'bisect'; at: number }
  /** [0, at) succeeded; retry [at, n) as a new (split) batch without consuming a retry. */
  | { action: 'split-at-failure'; at: number }
  /** [0, from) succeeded (0 for a whole failure); retry [from, n), consuming retry number `retry`. */
  | { action: 'retry'; from: number; retry: number }
  /** [0, from) succeeded; discard [from, n): retries exhausted. */
  | { action: 'discard'; from: number };

/** `retriesSoFar`: retries this batch already consumed; `size`: records in the batch. */
export function planAfterFailure(outcome: FailureKind, size: number, retriesSoFar: number, policy: FailurePolicy): FailurePlan {
  let from = 0;
  if (outcome.kind === 'partial') {
    from = outcome.failedIndex;
    if (policy.bisectBatchOnFunctionError && from > 0) return { action: 'split-at-failure', at: from };
  } else if (policy.bisectBatchOnFunctionError && size > 1) {
    return { action: 'bisect', at: Math.ceil(size / 2) };
  }
  const retry = retriesSoFar + 1;
  if (policy.maximumRetryAttempts !== -1 && retry > policy.maximumRetryAttempts) return { action: 'discard', from };
  return { action: 'retry', from, retry };
}

/** Exponential backoff between retries of one batch (AWS publishes no schedule; see docs/semantics.md). */
export function retryDelayMs(retry: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
}

/**
 * Records at the head of the batch older than MaximumRecordAgeInSeconds (page services-kinesis-parameters;
 * "The maximum age of a record that Lambda sends to your function"). Returns how many to discard.
 */
export function expiredPrefixLength(arrivalsMs: readonly number[], now: number, maximumRecordAgeInSeconds: number): number {
  if (maximumRecordAgeInSeconds === -1) return 0;
  const limitMs = maximumRecordAgeInSeconds * 1000;
  let count = 0;
  while (count < arrivalsMs.length && now - (arrivalsMs[count] ?? now) > limitMs) count++;
  return count;
}
