/** Where closed windows go: CloudWatch on AWS, an NDJSON file locally. Chosen by `publisherFromEnv`. */
import type { WindowPublication } from './business-metrics';

export type PublishOutcome = 'published' | 'already-published';

export interface BusinessMetricsPublisher {
  /**
   * Publishes one window's data points unless its `windowKey` was published before (by this publisher's
   * ledger). Throws when the write failed; the key is then free again so a retry can publish.
   */
  publish(publication: WindowPublication): Promise<PublishOutcome>;
}
