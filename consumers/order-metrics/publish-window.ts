/**
 * What happens when a window closes (`isFinalInvokeForWindow`): build its figures and publish them at
 * most once per window and shard.
 *
 * Guarantee, precisely:
 * - Figures are published only on the final invoke, after every record of that invoke was folded in.
 * - The returned state carries `publishedWindowKey`, so an invoke that receives the state of a
 *   finished publish (e.g. the rest of a final batch redelivered after a partial failure) skips it.
 * - Before writing, the publisher claims the window key in its ledger and releases it if the write
 *   fails (so the retry publishes). Locally the ledger is a marker file created with O_EXCL: exactly one
 *   publish per window across retries, worker replacements and runner restarts (a worker killed between
 *   the claim and the append loses that window: at most once). On AWS, with PUBLISH_LEDGER_TABLE set
 *   (the stack sets it for a consumer declaring `publishLedger`), the ledger is a DynamoDB conditional
 *   put (dynamodb-publish-ledger.ts): exactly one publish per window across retries on any container,
 *   with the same exception (a sandbox killed between the claim and PutMetricData, or a release that
 *   fails after a failed PutMetricData, loses that window). Without it the ledger is the sandbox's
 *   memory: a retry in a new sandbox after a publish that succeeded but whose invoke then failed
 *   publishes again, and CloudWatch adds both values (PutMetricData has no idempotency key).
 * - A ledger error (claim or release) fails the publish, so the invoke fails and Lambda retries it;
 *   a failed claim sends nothing to CloudWatch.
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
  else outcome = await input.publisher.publish({ windowKey, data });
  state.publishedWindowKey = windowKey;
  return { state, outcome };
}
