/**
 * One review per order: review-intake accepts each review request once, keyed by its `sourceEventId`
 * (the order.placed event's id; the request is built from that event alone, so every copy of it is
 * the same request).
 *
 * Copies arrive for two reasons, and the project's idempotency protocol handles both in one place:
 * - Lambda's asynchronous invocation may deliver an event more than once ("Lambda asynchronous
 *   invocation": "your function may receive the same event multiple times").
 * - order-review sends the request again whenever its record is delivered again: Lambda retries a
 *   failed or timed-out Kinesis batch, bisection re-runs records that succeeded, an operator redrives.
 *
 * The protocol is the consumer runtime's (consumers/runtime/durable-store.ts, after Powertools'
 * idempotency utility): claim the key IN_PROGRESS with a lease (a conditional write: of two sandboxes
 * exactly one wins), take the effect, mark the claim COMPLETED; a failed effect releases the claim.
 * A COMPLETED key is a duplicate: nothing happens again. A key held by another invocation whose
 * lease is valid throws ReviewRequestInProgressError: Lambda retries the event after a minute, then
 * two (the default retry policy), by when the holder has completed or its lease has ended.
 */
import { NO_CONTEXT_LEASE_MS, remainingTimeLeaseMs } from '../runtime/claim-lease';
import type { DurableRecordStore } from '../runtime/durable-store';
import type { Logger } from '../../telemetry/logger';

/** Another invocation is accepting the same request right now. Lambda retries the event later. */
export class ReviewRequestInProgressError extends Error {
  constructor(
    readonly sourceEventId: string,
    readonly leaseUntil: Date,
  ) {
    super(`review request for source event ${sourceEventId} is being accepted by another invocation (its claim is leased until ${leaseUntil.toISOString()}); retry later`);
    this.name = 'ReviewRequestInProgressError';
  }
}

export type AcceptOutcome = 'accepted' | 'duplicate';

/**
 * The lease of a claim (consumers/runtime/claim-lease.ts): until this invocation is over for certain
 * plus the margin, 15 minutes without a context. A retry of a crashed invocation comes a minute later
 * at the earliest, by when the lease has ended and the retry takes the claim over.
 */
export function acceptLeaseMs(context: { getRemainingTimeInMillis?: () => number } | undefined): number {
  return remainingTimeLeaseMs(context) ?? NO_CONTEXT_LEASE_MS;
}

/**
 * Runs `effect` unless `key` already took effect. Resolves 'accepted' after the effect ran (even when
 * the COMPLETED mark could not be written: the effect happened, so the invocation must not fail and be
 * retried; the error is logged), 'duplicate' when it had run before. Throws the effect's error (after
 * releasing the claim), the store's error before the effect (nothing happened: retried), or
 * ReviewRequestInProgressError.
 */
export async function acceptOnce(
  store: DurableRecordStore,
  key: string,
  leaseMs: number,
  effect: () => Promise<void>,
  log: Logger,
): Promise<AcceptOutcome> {
  const claimed = await store.claim(key, leaseMs);
  if (claimed.outcome === 'completed') return 'duplicate';
  if (claimed.outcome === 'in-progress') throw new ReviewRequestInProgressError(key, claimed.leaseUntil);
  try {
    await effect();
  } catch (error) {
    try {
      await store.release(claimed.claim);
    } catch (releaseError) {
      // Not fatal: the lease ends and Lambda's retry takes the claim over.
      log.warn({ err: releaseError, sourceEventId: key }, 'review request claim could not be released; a retry takes it over after its lease');
    }
    throw error;
  }
  try {
    await store.complete(claimed.claim);
  } catch (error) {
    log.error({ err: error, sourceEventId: key }, 'review request accepted but its claim could not be marked completed; a copy arriving after the lease would be accepted again');
  }
  return 'accepted';
}
