/**
 * Size budgets of the function bundles: bytes of minified JavaScript a cold start loads (the entry file
 * and the chunks it imports statically: `BundleResult.initBytes`; chunks behind a dynamic import() do not
 * count). Lambda reads, parses and runs all of it before the first record; every scale-out, deploy and
 * crash pays it, and on a stream it shows up as iterator age. BENCHMARKS.md ("Cold start") has the
 * figures. Sizes are deterministic, so test/infra/bundle-budget.test.ts holds every bundle to its budget;
 * times are not, so they stay in `npm run bench:cold-start`.
 *
 * A budget sits 10-20 KiB above the size when it was set: room for small changes, not for a new dependency at init.
 * When a bundle outgrows it, load what only a rare path needs on first use (consumers/runtime/on-first-use.ts)
 * before raising the number; no consumer may go above MAX_CONSUMER_INIT_BYTES.
 */

/** The ceiling for every consumer (issue 15: "at most 300 KiB minified"). */
export const MAX_CONSUMER_INIT_BYTES = 300 * 1024;

/** Budget per deployed function of pipeline/pipeline.ts, by definition key. */
export const INIT_BYTES_BUDGET: Readonly<Record<string, number>> = {
  // Session 7 (issue 15): pino loads with the first invocation; order-review's Invoke is a signed request.
  'order-metrics': 215 * 1024,
  'order-review': 200 * 1024,
  'review-intake': 180 * 1024,
};

/** The budget of a function; functions without their own budget get the consumer ceiling. */
export function initBytesBudget(name: string): number {
  return INIT_BYTES_BUDGET[name] ?? MAX_CONSUMER_INIT_BYTES;
}

/**
 * Budget of the lazily loaded chunks (the SDK clients of consumers/runtime/*-sdk.ts and friends), set
 * ~20 KiB above their size. A dynamic `import('@aws-sdk/client-x')` of a whole package keeps every
 * command of the client (a namespace cannot be tree-shaken): +40-120 KiB per client, paid on the first
 * batch that needs it. Importing through a module that re-exports only the used commands avoids that.
 */
export const LAZY_BYTES_BUDGET: Readonly<Record<string, number>> = {
  // pino (~60 KiB) is among them since session 7: loaded with the first invocation.
  'order-metrics': 485 * 1024,
  'order-review': 545 * 1024,
  // Its DynamoDB client: the idempotency claims of review requests (consumers/review-intake/accept-once.ts).
  'review-intake': 380 * 1024,
};
