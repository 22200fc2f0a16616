/**
 * Loads something once per container, on first use instead of at init: the AWS SDK clients of rare
 * paths (the SQS quarantine sink, the DynamoDB publish ledger, CloudWatch PutMetricData at a window's
 * end) are `import()`ed here so the function's bundle keeps them in chunks its cold start never reads
 * (infra/bundle.ts splits dynamic imports into chunks). Later calls cost one await of a settled promise.
 * A failed load is not cached: the next call tries again (the record is retried meanwhile).
 */
export function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    }));
}
