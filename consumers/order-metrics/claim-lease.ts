/** How long a window's publish claim is leased (see publish-ledger.ts and publish-window.ts). */
import type { Context } from 'aws-lambda';
import { remainingTimeLeaseMs } from '../runtime/claim-lease';
import type { OrderMetricsConfig } from './config';

/** The margin added to the remaining time (the project's one lease rule: consumers/runtime/claim-lease.ts). */
export { CLAIM_LEASE_MARGIN_MS as LEASE_MARGIN_MS } from '../runtime/claim-lease';

/**
 * The lease of a window's publish claim: PUBLISH_LEDGER_LEASE_SECONDS when set; else the time this
 * invocation may still run (Context.getRemainingTimeInMillis()) plus LEASE_MARGIN_MS, as Powertools'
 * idempotency utility sets the expiry of its in-progress records (without the margin). Why not the
 * function timeout: the claim is made late in the invocation, so "remaining time" ends exactly when
 * the holder's invocation is over for certain (Lambda stops a sandbox at its timeout; the local runner
 * kills the worker), while a full timeout from the claim would make Lambda's retries after a timeout
 * fail for up to another timeout (spending the mapping's retry attempts). Without a context
 * (undefined) the ledger's default applies: 15 minutes, the Lambda maximum timeout, which no
 * invocation outlives.
 */
export function claimLeaseMs(config: OrderMetricsConfig, context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): number | undefined {
  if (config.publishLeaseSeconds !== undefined) return config.publishLeaseSeconds * 1000;
  return remainingTimeLeaseMs(context);
}
