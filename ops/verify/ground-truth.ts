/**
 * What the reference consumers' effects must be, computed from the stream alone (pure).
 *
 * The rule the whole pipeline promises: delivery is at-least-once, effects are exactly-once. So each
 * UNIQUE VALID event (first occurrence of its event id; later records with the same id are
 * redeliveries or producer retries) has exactly one effect per consumer:
 * - order-metrics: counted once in the tumbling window of its first record's arrival time (Lambda
 *   assigns window records by ApproximateArrivalTimestamp, windows aligned to multiples of their
 *   length: local/esm/tumbling-window.ts). Per window: orders placed / paid / shipped / cancelled and
 *   captured revenue (order.paid amountMinor) per currency.
 * - order-review: one review request per unique valid `order.placed` that passes the mapping's filter
 *   and matches a review rule (consumers/order-review/rules.ts, configured from the definition's
 *   environment), keyed by its source event id.
 * Invalid events have no effect (they are quarantined).
 */
import type { InspectedEvent } from '../decode/record-inspector';
import type { RecordFilter } from '../../kinesis/filter-pattern';
import { windowOf } from '../../local/esm/tumbling-window';
import { evaluateReviewRules, type ReviewRules } from '../../consumers/order-review/rules';
import type { OrderEvent, OrderEventOf } from '../../schemas';

/** One window's business figures (all shards together: CloudWatch sums the shards' data points per minute). */
export interface WindowFigures {
  placed: number;
  paid: number;
  shipped: number;
  cancelled: number;
  /** Minor units per currency. */
  revenueMinor: Record<string, number>;
}

export const WINDOW_COUNT_METRICS = ['placed', 'paid', 'shipped', 'cancelled'] as const;

export function emptyWindowFigures(): WindowFigures {
  return { placed: 0, paid: 0, shipped: 0, cancelled: 0, revenueMinor: {} };
}

export interface ExpectedReviewRequest {
  readonly sourceEventId: string;
  readonly orderId: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly reasons: readonly string[];
}

/** An event of the stream with its raw record data (the mapping's filter reads the data). */
export interface GroundTruthEvent extends InspectedEvent {
  /** The user record's data bytes (for FilterCriteria); absent: the filter is not applied. */
  readonly data?: Uint8Array;
}

export interface GroundTruthRules {
  /** order-metrics' tumbling window length; undefined when the pipeline has no order-metrics consumer. */
  readonly windowSeconds?: number | undefined;
  /** order-review's rules; undefined when the pipeline has no order-review consumer. */
  readonly review?: { readonly rules: ReviewRules; readonly filter?: RecordFilter | undefined } | undefined;
}

export interface StreamCounts {
  /** User events on the stream (KPL aggregates counted by their parts). */
  events: number;
  valid: number;
  invalid: number;
  /** Valid events whose id appeared before (same id on another record). */
  duplicateIds: number;
  uniqueValid: number;
}

export interface ExpectedEffects {
  readonly counts: StreamCounts;
  /** Window start (epoch ms) -> figures. */
  readonly windows: Map<number, WindowFigures>;
  readonly reviewRequests: Map<string, ExpectedReviewRequest>;
  /** Where each unique valid event is (id -> shard and sequence number), for reporting. */
  readonly locations: Map<string, { shardId: string; sequenceNumber: string; arrivalTime: Date }>;
}

/** Arrival order; ties (one aggregate, or the same millisecond) by shard, sequence number, sub-sequence. */
function compareArrival(a: InspectedEvent, b: InspectedEvent): number {
  const t = a.arrivalTime.getTime() - b.arrivalTime.getTime();
  if (t !== 0) return t;
  if (a.shardId !== b.shardId) return a.shardId < b.shardId ? -1 : 1;
  const sa = BigInt(a.sequenceNumber);
  const sb = BigInt(b.sequenceNumber);
  if (sa !== sb) return sa < sb ? -1 : 1;
  return (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0);
}

export function expectedEffects(events: readonly GroundTruthEvent[], rules: GroundTruthRules): ExpectedEffects {
  const counts: StreamCounts = { events: events.length, valid: 0, invalid: 0, duplicateIds: 0, uniqueValid: 0 };
  const windows = new Map<number, WindowFigures>();
  const reviewRequests = new Map<string, ExpectedReviewRequest>();
  const locations = new Map<string, { shardId: string; sequenceNumber: string; arrivalTime: Date }>();
  for (const inspected of [...events].sort(compareArrival)) {
    if (!inspected.valid || inspected.event === undefined || inspected.id === undefined) {
      counts.invalid += 1;
      continue;
    }
    counts.valid += 1;
    if (locations.has(inspected.id)) {
      counts.duplicateIds += 1;
      continue;
    }
    counts.uniqueValid += 1;
    locations.set(inspected.id, { shardId: inspected.shardId, sequenceNumber: inspected.sequenceNumber, arrivalTime: inspected.arrivalTime });
    const event = inspected.event as OrderEvent;
    if (rules.windowSeconds !== undefined) {
      const { startMs } = windowOf(inspected.arrivalTime.getTime(), rules.windowSeconds);
      let figures = windows.get(startMs);
      if (figures === undefined) windows.set(startMs, (figures = emptyWindowFigures()));
      foldIntoWindow(figures, event);
    }
    if (rules.review !== undefined && event.type === 'order.placed') {
      if (rules.review.filter !== undefined && inspected.data !== undefined && !rules.review.filter.matches(inspected.data)) continue;
      const reasons = evaluateReviewRules(event as OrderEventOf<'order.placed'>, rules.review.rules);
      if (reasons.length === 0) continue;
      reviewRequests.set(inspected.id, {
        sourceEventId: inspected.id,
        orderId: event.data.orderId,
        shardId: inspected.shardId,
        sequenceNumber: inspected.sequenceNumber,
        reasons: reasons.map((r) => r.code),
      });
    }
  }
  return { counts, windows, reviewRequests, locations };
}

/** The same fold order-metrics applies (consumers/order-metrics/window-state.ts). */
function foldIntoWindow(figures: WindowFigures, event: OrderEvent): void {
  switch (event.type) {
    case 'order.placed':
      figures.placed += 1;
      break;
    case 'order.paid':
      figures.paid += 1;
      figures.revenueMinor[event.data.currency] = (figures.revenueMinor[event.data.currency] ?? 0) + event.data.amountMinor;
      break;
    case 'order.shipped':
      figures.shipped += 1;
      break;
    case 'order.cancelled':
      figures.cancelled += 1;
      break;
  }
}
