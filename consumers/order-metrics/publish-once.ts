/**
 * The claim -> write -> complete (or release) sequence every BusinessMetricsPublisher runs around its
 * write, over any PublishLedger (see publish-ledger.ts and publish-window.ts for the guarantee).
 */
import type { PublishOutcome } from './business-metrics-publisher';
import type { ClaimOptions, CompletedWindow, PublishLedger } from './publish-ledger';

/**
 * Another invocation holds the window's claim and its lease is still valid. Publishing now could publish
 * twice, skipping could lose the window: the publish fails, so the invoke fails and Lambda retries it;
 * once the lease has expired (its holder died) a retry takes the claim over.
 */
export class WindowClaimHeldError extends Error {
  constructor(
    readonly windowKey: string,
    readonly leaseUntil: Date,
  ) {
    super(`window "${windowKey}" is being published by another invocation (claim lease valid until ${leaseUntil.toISOString()}); retry after the lease`);
    this.name = 'WindowClaimHeldError';
  }
}

/** `completed` (e.g. the WindowPublication: its event ids) is kept with the completed claim (publish-ledger.ts). */
export async function publishOnce(
  ledger: PublishLedger,
  windowKey: string,
  options: ClaimOptions,
  write: () => Promise<void>,
  completed: CompletedWindow = {},
): Promise<PublishOutcome> {
  const result = await ledger.claim(windowKey, options);
  if (result.outcome === 'already-published') return 'already-published';
  if (result.outcome === 'held-by-other') throw new WindowClaimHeldError(windowKey, result.leaseUntil);
  try {
    await write();
  } catch (writeError) {
    try {
      await ledger.release(result.claim);
    } catch (releaseError) {
      // Not fatal: the claim's lease expires and a retry takes it over. Both causes stay visible.
      throw new AggregateError([writeError, releaseError], `publish of window "${windowKey}" failed and its claim could not be released (it expires with its lease)`);
    }
    throw writeError;
  }
  // A failure here (after the SDK's retries) fails the invoke; see publish-window.ts for what follows.
  await ledger.complete(result.claim, completed);
  return 'published';
}
