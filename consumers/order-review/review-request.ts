/**
 * The review request order-review sends to review-intake (shared contract of both functions).
 *
 * Built only from the order event, so the same source event always yields the same request: retried
 * or redelivered records produce byte-identical requests, and the receiver de-duplicates on
 * `sourceEventId`. No personal data: customer and address stay in the order event.
 */
import * as z from 'zod';
import type { OrderEventOf } from '../../schemas';
import { currency, minorUnits, orderId, text } from '../../schemas/primitives';
import { REVIEW_REASON_CODES, type ReviewReason } from './rules';

export const REVIEW_REQUEST_TYPE = 'order.review-requested';

export const reviewReasonSchema = z.strictObject({
  code: z.enum(REVIEW_REASON_CODES, { error: `must be one of ${REVIEW_REASON_CODES.join(', ')}` }),
  message: text(500),
});

export const reviewRequestSchema = z.strictObject({
  type: z.literal(REVIEW_REQUEST_TYPE, { error: `must be "${REVIEW_REQUEST_TYPE}"` }),
  version: z.literal(1, { error: 'must be 1' }),
  orderId,
  reasons: z
    .array(reviewReasonSchema, { error: 'must be an array of reasons' })
    .min(1, { error: 'must contain at least one reason' })
    .max(REVIEW_REASON_CODES.length, { error: `must contain at most ${REVIEW_REASON_CODES.length} reasons` }),
  amountMinor: minorUnits,
  currency,
  /** `id` of the order.placed event: the idempotency key of the request. */
  sourceEventId: z.uuid({ error: 'must be the UUID of the source event' }),
  /** `occurredAt` of the order.placed event. */
  orderPlacedAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with a UTC offset' }),
  /** The source event's traceId, or its id when it had none (the request starts the trace). */
  traceId: text(200),
  /** The source event's hops + 1: every hand-over counts, so loops stop at the hop limit. */
  hops: z.int({ error: 'must be an integer' }).min(1, { error: 'must be at least 1' }).max(1000, { error: 'must be at most 1000' }),
});

export type ReviewRequest = z.output<typeof reviewRequestSchema>;

export function buildReviewRequest(event: OrderEventOf<'order.placed'>, reasons: readonly ReviewReason[]): ReviewRequest {
  return {
    type: REVIEW_REQUEST_TYPE,
    version: 1,
    orderId: event.data.orderId,
    reasons: reasons.map((r) => ({ code: r.code, message: r.message })),
    amountMinor: event.data.totalMinor,
    currency: event.data.currency,
    sourceEventId: event.id,
    orderPlacedAt: event.occurredAt,
    traceId: event.traceId ?? event.id,
    hops: event.hops + 1,
  };
}
