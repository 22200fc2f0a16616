/** Where closed windows go: CloudWatch on AWS, an NDJSON file locally. Chosen by `publisherFromEnv`. */
import type { WindowPublication } from './business-metrics';
import type { ClaimOptions } from './publish-ledger';

export type PublishOutcome = 'published' | 'already-published';

/** Per publish: the lease of the window's claim (see publish-ledger.ts). */
export type PublishOptions = ClaimOptions;

export interface BusinessMetricsPublisher {
  /**
   * Publishes one window's data points unless its `windowKey` was published before (by this publisher's
   * ledger). Throws when the write failed (the key is then free again so a retry can publish) and when
   * another invocation holds the key with a valid lease (WindowClaimHeldError).
   */
  publish(publication: WindowPublication, options?: PublishOptions): Promise<PublishOutcome>;
  /**
   * The event ids a published window counted (`publication.eventIds`, kept by this publisher's ledger);
   * undefined when the window was not published or kept none. A publisher without it (a test double)
   * gives windows no cross-window duplicate check (window-seed.ts).
   */
  publishedEventIds?(windowKey: string): Promise<readonly string[] | undefined>;
}
