/**
 * What happens when a window closes (`isFinalInvokeForWindow`): build its figures and publish them once
 * per window and shard, neither losing the window nor (but for the case below) publishing it twice.
 *
 * Guarantee, precisely:
 * - Figures are published only on the final invoke, after every record of that invoke was folded in.
 * - The returned state carries `publishedWindowKey`, so an invoke that receives the state of a
 *   finished publish (e.g. the rest of a final batch redelivered after a partial failure) skips it.
 * - Before writing, the publisher claims the window key in its ledger (publish-ledger.ts): an
 *   in-progress claim with a lease. After the write it marks the claim completed; if the write fails it
 *   releases the claim (so the retry publishes). A claim attempt finds one of:
 *   no claim (or an in-progress one whose lease expired: its holder died) -> claimed, publish;
 *   a completed claim -> 'already-published', nothing is sent;
 *   an in-progress claim with a valid lease -> the publish fails (WindowClaimHeldError), so the invoke
 *   fails and Lambda retries it; never a silent skip.
 * - The lease is the time the claiming invocation may still run (context.getRemainingTimeInMillis() at
 *   the claim) plus a margin (claim-lease.ts), unless PUBLISH_LEDGER_LEASE_SECONDS sets it; 15 minutes (the
 *   Lambda maximum timeout) without a context. When the lease expires the holder's invocation is over
 *   (Lambda ends, and the local runner kills, a sandbox at its timeout), so a retry takes over at once.
 * - The one case that publishes twice: the write succeeded (PutMetricData accepted, or the line was
 *   appended) and the holder could not mark the claim completed - its sandbox or worker died between
 *   the write and the completion (e.g. the timeout struck right after PutMetricData returned), or the
 *   completing write failed after the SDK's retries. Its claim stays in progress; after the lease a
 *   retry takes it over and writes the window again, and CloudWatch adds both values (PutMetricData has
 *   no idempotency key). A holder still running past its lease (only with a lease set shorter than the
 *   function timeout, or a clock skew beyond the margin) can lead to the same. (A window needing several
 *   PutMetricData requests - over 1000 data points, far beyond 4 + one per currency - whose later
 *   request fails is released and resent whole: its first requests count twice.)
 * - Ledgers: locally a FilePublishLedger under LOCAL_DATA_DIR (generation files created with link(2),
 *   shared across worker replacements and runner restarts); on AWS with PUBLISH_LEDGER_TABLE (set by the
 *   stack for a consumer declaring `publishLedger`) a DynamoDbPublishLedger (conditional PutItem,
 *   shared by all containers). Without it the ledger is the sandbox's memory: a retry in a new sandbox
 *   after a publish that succeeded but whose invoke then failed publishes again.
 * - A ledger error fails the publish, so the invoke fails and Lambda retries it; a failed claim sends
 *   nothing to CloudWatch.
 */
import {
  buildWindowMetrics,
  isPublishableTimestamp,
  windowKeyOf,
  type MetricDimension,
  type TumblingWindow,
} from './business-metrics';
import type { BusinessMetricsPublisher } from './business-metrics-publisher';
import type { WindowState } from './window-state';

export type WindowCloseOutcome =
  /** Published now. */
  | 'published'
  /** This window's figures were published before (state marker or publisher ledger). */
  | 'already-published'
  /**
   * The window start is outside what PutMetricData accepts (older than two weeks or more than two hours
   * ahead, e.g. replaying an old stream): the figures cannot be stored, so they are reported in the
   * log instead of blocking the shard with retries that can never succeed.
   */
  | 'outside-cloudwatch-time-range';

export interface CloseWindowInput {
  readonly state: WindowState;
  readonly window: TumblingWindow;
  readonly eventSourceArn: string;
  readonly shardId: string;
  readonly dimensions: readonly MetricDimension[];
  readonly publisher: BusinessMetricsPublisher;
  /** Lease of the window's claim (ms); default: the ledger's. */
  readonly leaseMs?: number;
  readonly now?: Date;
}

/** Publishes the closed window and records it in `state.publishedWindowKey` (mutates and returns `state`). */
export async function closeWindow(input: CloseWindowInput): Promise<{ state: WindowState; outcome: WindowCloseOutcome }> {
  const { state } = input;
  const windowKey = windowKeyOf(input.eventSourceArn, input.shardId, input.window);
  if (state.publishedWindowKey === windowKey) return { state, outcome: 'already-published' };
  const data = buildWindowMetrics(state, input.window, input.dimensions);
  let outcome: WindowCloseOutcome;
  if (!isPublishableTimestamp(data[0]!.Timestamp, input.now ?? new Date())) outcome = 'outside-cloudwatch-time-range';
  // The ids go with the ledger record, for the next window's duplicate check (window-seed.ts).
  else outcome = await input.publisher.publish({ windowKey, data, eventIds: state.recentEventIds }, input.leaseMs !== undefined ? { leaseMs: input.leaseMs } : {});
  state.publishedWindowKey = windowKey;
  return { state, outcome };
}
