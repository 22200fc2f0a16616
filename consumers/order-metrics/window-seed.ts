/**
 * The duplicate check of order-metrics across window boundaries: which window owns an event written
 * twice, and how the next window learns of it.
 *
 * AWS behaviour it rests on (Lambda developer guide, "Using tumbling windows with Kinesis"; Kinesis
 * API reference, PutRecords):
 * - Lambda assigns records to windows "based on the time when records were inserted into the stream"
 *   (ApproximateArrivalTimestamp), and every window starts with a fresh state (`{}`): nothing a window
 *   kept in its state reaches the next one.
 * - PutRecords is not idempotent: a producer that retries a request the service already applied (the
 *   response was lost: a reset, a timeout) writes the same event again, with the same partition key,
 *   so to the same shard, with a later sequence number and arrival time. If a window boundary falls
 *   between the two copies, they land in consecutive windows of that shard.
 * - A shard's records are delivered in sequence-number order, one batch at a time with a tumbling
 *   window, and the window's final invoke must succeed before the shard goes on ("suspends further
 *   processing until a successful invocation"): the previous window's publish is complete before the
 *   next window's first invocation.
 *
 * Rule: the window of the FIRST copy (the earliest arrival) owns the event, as ground truth counts it
 * (ops/verify/ground-truth.ts). When a window closes, the ids it counted (the state's
 * `recentEventIds`, at most MAX_RECENT_EVENT_IDS) are kept with its publish-ledger record
 * (publish-ledger.ts); when the next window of the shard starts, its duplicate check is seeded with
 * them: one ledger read per window and shard, the per-record check stays an O(1) Set lookup. A later
 * copy in the next window is then skipped (`duplicatesSkipped`, EMF DuplicatesSkipped).
 *
 * Not covered (documented limits): copies more than one window apart; copies on two shards (a reshard
 * between them: parent and child); a first copy older than the previous window's last
 * MAX_RECENT_EVENT_IDS ids; a previous window too old or too far ahead for PutMetricData (not
 * published, so nothing kept: replays of records older than two weeks); a publisher without a ledger
 * read (`publishedEventIds`).
 */
import type { Logger } from '../../telemetry/logger';
import type { WindowInfo } from '../runtime';
import { windowKeyOf } from './business-metrics';
import type { BusinessMetricsPublisher } from './business-metrics-publisher';
import { MAX_RECENT_EVENT_IDS, emptyWindowState, type WindowState } from './window-state';

/**
 * The key of the shard's previous window: the same length, ending where this one starts. An early
 * terminated window keeps its nominal bounds (local/esm/tumbling-window.ts), so its length is the
 * mapping's TumblingWindowInSeconds.
 */
export function previousWindowKey(window: WindowInfo): string | undefined {
  const startMs = Date.parse(window.start);
  const lengthMs = Date.parse(window.end) - startMs;
  if (!Number.isFinite(lengthMs) || lengthMs <= 0) return undefined;
  const start = new Date(startMs - lengthMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return windowKeyOf(window.streamArn ?? 'unknown-stream', window.shardId, { start, end: window.start });
}

/**
 * The state a window starts with: empty, its duplicate check seeded with the ids the shard's previous
 * window counted. A ledger error propagates: the invocation fails and Lambda retries it.
 */
export async function seededWindowState(publisher: BusinessMetricsPublisher, window: WindowInfo, log: Logger): Promise<WindowState> {
  const state = emptyWindowState();
  const key = previousWindowKey(window);
  if (key === undefined || publisher.publishedEventIds === undefined) return state;
  const ids = await publisher.publishedEventIds(key);
  if (ids === undefined || ids.length === 0) return state;
  state.recentEventIds = ids.slice(-MAX_RECENT_EVENT_IDS);
  log.debug({ shardId: window.shardId, window: window.start, seededIds: state.recentEventIds.length }, 'window duplicate check seeded from the previous window');
  return state;
}
