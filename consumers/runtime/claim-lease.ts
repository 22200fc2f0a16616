/**
 * How long an idempotency claim is leased: one rule for every claim of the project (the consumer
 * runtime's event claims, order-metrics' window publish claims, review-intake's request claims).
 *
 * A claim's lease ends when the invocation holding it is over for certain: its remaining time
 * (Context.getRemainingTimeInMillis(), Lambda stops a sandbox at its timeout) plus a margin, as
 * Powertools' idempotency utility sets the expiry of its in-progress records (without the margin).
 * A full timeout counted from the claim would make the retry after a timeout or crash wait for up to
 * another timeout. No imports: every function bundle may load this at init.
 */

/**
 * Added to the remaining invocation time: covers clock differences between sandboxes (the lease is
 * compared with another sandbox's clock) and a request already on the wire when the sandbox died.
 */
export const CLAIM_LEASE_MARGIN_MS = 5_000;

/** Lease without a Lambda context: 15 minutes, the Lambda maximum timeout, which no invocation outlives. */
export const NO_CONTEXT_LEASE_MS = 15 * 60_000;

/** Remaining time + CLAIM_LEASE_MARGIN_MS, or undefined without a context or a finite remaining time. */
export function remainingTimeLeaseMs(context: { getRemainingTimeInMillis?: () => number } | undefined): number | undefined {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  return remaining !== undefined && Number.isFinite(remaining) ? Math.max(0, Math.ceil(remaining)) + CLAIM_LEASE_MARGIN_MS : undefined;
}
