import { describe, expect, it } from 'vitest';
import type { OrderEventOf } from '../../schemas';
import { registry } from '../../schemas';
import { createFixtures } from '../../schemas/fixtures';
import { evaluateReviewRules, type ReviewRules } from '../../consumers/order-review/rules';
import { ConfigurationError, parseAmountThresholds, readOrderReviewConfig } from '../../consumers/order-review/config';

const RULES: ReviewRules = { amountThresholdMinor: { default: 50_000, byCurrency: { JPY: 7_500_000 } }, maxUnitsPerSku: 20, maxLines: 30 };

/** A valid order.placed with the given lines (total kept consistent, checked by the contract). */
function order(lines: { sku: string; quantity: number; unitPriceMinor: number }[], currency: 'EUR' | 'JPY' | 'USD' = 'EUR'): OrderEventOf<'order.placed'> {
  const base = createFixtures({ seed: 31 }).orderPlaced();
  const event = { ...base, data: { ...base.data, currency, lines, totalMinor: lines.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0) } };
  return registry.parse(event) as OrderEventOf<'order.placed'>;
}

describe('order-review rules', () => {
  it('needs no review for an ordinary order', () => {
    expect(evaluateReviewRules(order([{ sku: 'SKU-10001', quantity: 2, unitPriceMinor: 1999 }]), RULES)).toEqual([]);
  });

  it('flags a total strictly above the threshold, not one equal to it', () => {
    const at = order([{ sku: 'SKU-10001', quantity: 2, unitPriceMinor: 25_000 }]);
    const above = order([{ sku: 'SKU-10001', quantity: 1, unitPriceMinor: 50_001 }]);
    expect(evaluateReviewRules(at, RULES)).toEqual([]);
    expect(evaluateReviewRules(above, RULES)).toEqual([
      { code: 'amount-above-threshold', message: 'total 50001 EUR minor units is above the review threshold 50000' },
    ]);
  });

  it('uses the currency\'s own threshold when one is configured (JPY has no minor unit)', () => {
    const yen = order([{ sku: 'SKU-10001', quantity: 1, unitPriceMinor: 60_000 }], 'JPY');
    expect(evaluateReviewRules(yen, RULES)).toEqual([]);
    const bigYen = order([{ sku: 'SKU-10001', quantity: 1, unitPriceMinor: 7_500_001 }], 'JPY');
    expect(evaluateReviewRules(bigYen, RULES).map((r) => r.code)).toEqual(['amount-above-threshold']);
  });

  it('does not check the amount of a currency with no threshold and no default', () => {
    const rules: ReviewRules = { ...RULES, amountThresholdMinor: { byCurrency: { EUR: 100 } } };
    expect(evaluateReviewRules(order([{ sku: 'SKU-10001', quantity: 1, unitPriceMinor: 9_999_999 }], 'USD'), rules)).toEqual([]);
    expect(evaluateReviewRules(order([{ sku: 'SKU-10001', quantity: 1, unitPriceMinor: 101 }], 'EUR'), rules)).toHaveLength(1);
  });

  it('flags more than maxUnitsPerSku units on one line, naming the SKUs', () => {
    const bulk = order([
      { sku: 'SKU-10001', quantity: 21, unitPriceMinor: 10 },
      { sku: 'SKU-10002', quantity: 20, unitPriceMinor: 10 },
    ]);
    expect(evaluateReviewRules(bulk, RULES)).toEqual([{ code: 'bulk-quantity', message: 'more than 20 units of one SKU: SKU-10001 x21' }]);
  });

  it('flags more than maxLines lines', () => {
    const lines = Array.from({ length: 31 }, (_, i) => ({ sku: `SKU-${20000 + i}`, quantity: 1, unitPriceMinor: 10 }));
    expect(evaluateReviewRules(order(lines), RULES)).toEqual([{ code: 'many-lines', message: '31 lines is more than 30' }]);
    expect(evaluateReviewRules(order(lines.slice(0, 30)), RULES)).toEqual([]);
  });

  it('reports every reason that applies, in a fixed order', () => {
    const lines = Array.from({ length: 31 }, (_, i) => ({ sku: `SKU-${30000 + i}`, quantity: 25, unitPriceMinor: 100 }));
    const reasons = evaluateReviewRules(order(lines), RULES);
    expect(reasons.map((r) => r.code)).toEqual(['amount-above-threshold', 'bulk-quantity', 'many-lines']);
    expect(reasons[1]!.message).toMatch(/and 26 more$/);
  });

  it('never puts customer data in a reason', () => {
    const o = order(Array.from({ length: 40 }, (_, i) => ({ sku: `SKU-${40000 + i}`, quantity: 30, unitPriceMinor: 5000 })));
    const text = JSON.stringify(evaluateReviewRules(o, RULES));
    for (const personal of [o.data.customer.email, o.data.customer.customerId, o.data.shippingAddress.name, o.data.shippingAddress.line1]) {
      expect(text).not.toContain(personal);
    }
  });
});

describe('order-review configuration', () => {
  const env = { REVIEW_AMOUNT_THRESHOLD_MINOR: '50000', REVIEW_INTAKE_FUNCTION_NAME: 'orders-dev-review-intake' };

  it('reads a single threshold and defaults for the other rules', () => {
    expect(readOrderReviewConfig(env)).toEqual({
      rules: { amountThresholdMinor: { default: 50_000, byCurrency: {} }, maxUnitsPerSku: 20, maxLines: 30 },
      reviewIntakeFunctionName: 'orders-dev-review-intake',
    });
  });

  it('reads per-currency thresholds with a "*" default', () => {
    expect(parseAmountThresholds('EUR=50000, JPY=7500000,*=60000')).toEqual({ default: 60_000, byCurrency: { EUR: 50_000, JPY: 7_500_000 } });
    expect(parseAmountThresholds('USD=1')).toEqual({ byCurrency: { USD: 1 } });
  });

  it('accepts a function ARN and explicit rule limits', () => {
    const cfg = readOrderReviewConfig({
      ...env,
      REVIEW_INTAKE_FUNCTION_NAME: 'arn:aws:lambda:eu-west-1:123456789012:function:review-intake:live',
      REVIEW_MAX_UNITS_PER_SKU: '5',
      REVIEW_MAX_LINES: '7',
    });
    expect(cfg.rules.maxUnitsPerSku).toBe(5);
    expect(cfg.rules.maxLines).toBe(7);
  });

  it.each([
    [{ REVIEW_INTAKE_FUNCTION_NAME: 'x' }, /REVIEW_AMOUNT_THRESHOLD_MINOR is required/],
    [{ REVIEW_AMOUNT_THRESHOLD_MINOR: '1' }, /REVIEW_INTAKE_FUNCTION_NAME is required/],
    [{ ...env, REVIEW_AMOUNT_THRESHOLD_MINOR: '-5' }, /"-5" is not CURRENCY=amount/],
    [{ ...env, REVIEW_AMOUNT_THRESHOLD_MINOR: 'EUR=12.5' }, /"EUR=12.5" is not CURRENCY=amount/],
    [{ ...env, REVIEW_AMOUNT_THRESHOLD_MINOR: 'EUX=100' }, /"EUX" is not an active ISO-4217 currency code/],
    [{ ...env, REVIEW_INTAKE_FUNCTION_NAME: 'bad name!' }, /not a Lambda function name or ARN/],
    [{ ...env, REVIEW_MAX_LINES: '0' }, /REVIEW_MAX_LINES must be a positive integer, got "0"/],
  ])('refuses bad configuration with a message naming the variable (%#)', (bad, message) => {
    expect(() => readOrderReviewConfig(bad)).toThrow(ConfigurationError);
    expect(() => readOrderReviewConfig(bad)).toThrow(message);
  });
});
