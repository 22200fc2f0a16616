/** How long a window's publish claim is leased (see publish-ledger.ts and publish-window.ts). */
import type { Context } from 'aws-lambda';
import type { OrderMetricsConfig } from './config';

/**
 * Added to the remaining invocation time: covers clock differences between sandboxes (the lease is
 * compared with another sandbox's clock) and a request already on the wire when the sandbox died.
 */
export const LEASE_MARGIN_MS = 5_000;

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
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  return remaining !== undefined && Number.isFinite(remaining) ? Math.max(0, Math.ceil(remaining)) + LEASE_MARGIN_MS : undefined;
}
