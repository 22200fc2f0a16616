/**
 * Which new orders need a human look. Pure: configuration in, reasons out, no I/O.
 * Reason messages carry amounts, counts and SKUs only, never customer data.
 */
import type { OrderEventOf } from '../../schemas';
import type { CurrencyCode } from '../../schemas/iso4217';

export const REVIEW_REASON_CODES = ['amount-above-threshold', 'bulk-quantity', 'many-lines'] as const;
export type ReviewReasonCode = (typeof REVIEW_REASON_CODES)[number];

export interface ReviewReason {
  readonly code: ReviewReasonCode;
  readonly message: string;
}

export interface ReviewRules {
  /**
   * Orders whose totalMinor is strictly above the threshold of their currency need review. Minor units
   * differ per currency (JPY has none, EUR has cents), hence per-currency values; `default` applies to
   * currencies without their own. A currency with neither is not checked by this rule.
   */
  readonly amountThresholdMinor: { readonly default?: number; readonly byCurrency: Partial<Record<CurrencyCode, number>> };
  /** A single line with more units than this (reseller or stolen-card pattern) needs review. */
  readonly maxUnitsPerSku: number;
  /** More distinct lines than this needs review (basket stuffing, scripted checkouts). */
  readonly maxLines: number;
}

type OrderPlaced = OrderEventOf<'order.placed'>;

/** The reasons an order needs review, in a fixed order; empty when it does not. */
export function evaluateReviewRules(order: OrderPlaced, rules: ReviewRules): ReviewReason[] {
  const { data } = order;
  const reasons: ReviewReason[] = [];
  const threshold = rules.amountThresholdMinor.byCurrency[data.currency] ?? rules.amountThresholdMinor.default;
  if (threshold !== undefined && data.totalMinor > threshold) {
    reasons.push({
      code: 'amount-above-threshold',
      message: `total ${data.totalMinor} ${data.currency} minor units is above the review threshold ${threshold}`,
    });
  }
  const bulk = data.lines.filter((line) => line.quantity > rules.maxUnitsPerSku);
  if (bulk.length > 0) {
    const listed = bulk
      .slice(0, 5)
      .map((line) => `${line.sku} x${line.quantity}`)
      .join(', ');
    reasons.push({
      code: 'bulk-quantity',
      message: `more than ${rules.maxUnitsPerSku} units of one SKU: ${listed}${bulk.length > 5 ? ` and ${bulk.length - 5} more` : ''}`,
    });
  }
  if (data.lines.length > rules.maxLines) {
    reasons.push({ code: 'many-lines', message: `${data.lines.length} lines is more than ${rules.maxLines}` });
  }
  return reasons;
}
