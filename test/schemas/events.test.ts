import { describe, expect, it } from 'vitest';
import { createFixtures } from '../../schemas/fixtures';
import { EventValidationError, registry, type OrderEvent, type OrderEventType } from '../../schemas/index';
import { withField, withoutField } from './edit';

const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);

/** A valid event of `type` (seeded), as produced by the fixture generator. */
function validEvent(type: OrderEventType, seed = 42): OrderEvent {
  const f = createFixtures({ seed });
  switch (type) {
    case 'order.placed':
      return f.orderPlaced({ lines: 2 });
    case 'order.paid':
      return f.orderPaid();
    case 'order.shipped':
      return f.orderShipped({ warehouseId: 'WH-1' });
    case 'order.cancelled':
      return f.orderCancelled({ reason: 'other', note: 'customer changed their mind' });
  }
}

function expectRejected(input: unknown, path: string, message: string): EventValidationError {
  const result = registry.safeParse(input);
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  const error = result.error;
  expect(error).toBeInstanceOf(EventValidationError);
  expect(error.kind).toBe('schema');
  expect(error.issues).toEqual([{ path, message }]);
  expect(error.message).toContain(`${path}: ${message}`);
  return error as EventValidationError;
}

describe('every event type accepts its fixtures', () => {
  it.each(registry.types)('%s: fixtures of 40 seeds validate and round-trip unchanged', (type) => {
    for (const seed of SEEDS) {
      const event = validEvent(type as OrderEventType, seed);
      const parsed = registry.parse(event);
      expect(parsed).toEqual(event);
      // What crosses Kinesis is JSON: the serialised form validates too.
      expect(registry.parse(JSON.parse(JSON.stringify(event)))).toEqual(event);
    }
  });

  it('the mixed lifecycle stream of 40 seeds x 100 events validates, and covers every type', () => {
    const seen = new Set<string>();
    for (const seed of SEEDS) {
      for (const event of createFixtures({ seed }).take(100)) {
        const result = registry.safeParse(event);
        expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
        seen.add(event.type);
      }
    }
    expect([...seen].sort()).toEqual([...registry.types].sort());
  });
});

type BadCase = readonly [label: string, make: (valid: OrderEvent) => unknown, path: string, message: string];

const orderPlacedCases: BadCase[] = [
  ['zero quantity', (e) => withField(e, 'data.lines.0.quantity', 0), 'data.lines.0.quantity', 'must be at least 1'],
  ['fractional quantity', (e) => withField(e, 'data.lines.0.quantity', 1.5), 'data.lines.0.quantity', 'must be an integer'],
  [
    'quantity above 10000',
    (e) => withField(e, 'data.lines.0.quantity', 10_001),
    'data.lines.0.quantity',
    'must be at most 10000',
  ],
  [
    'fractional unit price',
    (e) => withField(e, 'data.lines.1.unitPriceMinor', 9.99),
    'data.lines.1.unitPriceMinor',
    'must be an integer amount in minor units (e.g. cents)',
  ],
  ['negative unit price', (e) => withField(e, 'data.lines.1.unitPriceMinor', -1), 'data.lines.1.unitPriceMinor', 'must not be negative'],
  [
    'total not the sum of the lines',
    (e) => withField(e, 'data.totalMinor', (e.data as { totalMinor: number }).totalMinor + 1),
    'data.totalMinor',
    `must equal the sum of quantity x unitPriceMinor over the lines (${totalOf(validEvent('order.placed'))}), got ${totalOf(validEvent('order.placed')) + 1}`,
  ],
  ['no line items', (e) => withField(withField(e, 'data.lines', []), 'data.totalMinor', 0), 'data.lines', 'must contain at least one line item'],
  [
    'more than 100 line items',
    (e) => withField(e, 'data.lines', Array.from({ length: 101 }, () => ({ sku: 'SKU-1', quantity: 1, unitPriceMinor: 1 }))),
    'data.lines',
    'must contain at most 100 line items',
  ],
  ['lines not an array', (e) => withField(e, 'data.lines', { sku: 'SKU-1' }), 'data.lines', 'must be an array of line items'],
  [
    'lower-case currency',
    (e) => withField(e, 'data.currency', 'eur'),
    'data.currency',
    'must be an active ISO-4217 currency code in upper case, e.g. "EUR"',
  ],
  ['invalid e-mail', (e) => withField(e, 'data.customer.email', 'not-an-email'), 'data.customer.email', 'must be an e-mail address'],
  [
    'country name instead of code',
    (e) => withField(e, 'data.shippingAddress.country', 'Germany'),
    'data.shippingAddress.country',
    'must be an ISO 3166-1 alpha-2 country code, e.g. "DE"',
  ],
  ['missing shipping address', (e) => withoutField(e, 'data.shippingAddress'), 'data.shippingAddress', 'is required'],
  ['shipping address not an object', (e) => withField(e, 'data.shippingAddress', 'Main St 1'), 'data.shippingAddress', 'must be an object'],
  [
    'name longer than 200 characters',
    (e) => withField(e, 'data.shippingAddress.name', 'x'.repeat(201)),
    'data.shippingAddress.name',
    'must be at most 200 characters',
  ],
  ['empty city', (e) => withField(e, 'data.shippingAddress.city', ''), 'data.shippingAddress.city', 'must not be empty'],
  [
    'padded customer id',
    (e) => withField(e, 'data.customer.customerId', ' cus_1'),
    'data.customer.customerId',
    'must not start or end with whitespace',
  ],
  [
    'lower-case sku',
    (e) => withField(e, 'data.lines.0.sku', 'sku-1'),
    'data.lines.0.sku',
    'must be 3-32 upper-case letters, digits or "-", starting with a letter or digit',
  ],
  ['unknown field in a line item', (e) => withField(e, 'data.lines.0.discount', 5), 'data.lines.0.discount', 'is not a known field'],
];

const orderPaidCases: BadCase[] = [
  ['negative amount', (e) => withField(e, 'data.amountMinor', -1), 'data.amountMinor', 'must not be negative'],
  [
    'amount as a string',
    (e) => withField(e, 'data.amountMinor', '100'),
    'data.amountMinor',
    'must be an integer amount in minor units (e.g. cents)',
  ],
  [
    'amount above the ceiling',
    (e) => withField(e, 'data.amountMinor', 100_000_000_001),
    'data.amountMinor',
    'must be at most 100000000000 minor units',
  ],
  ['unknown payment method', (e) => withField(e, 'data.method', 'cash'), 'data.method', 'must be one of card, paypal, bank_transfer, gift_card'],
  ['missing currency', (e) => withoutField(e, 'data.currency'), 'data.currency', 'is required'],
  ['empty payment id', (e) => withField(e, 'data.paymentId', ''), 'data.paymentId', 'must not be empty'],
  [
    'order id too short',
    (e) => withField(e, 'data.orderId', 'a1'),
    'data.orderId',
    'must be 3-64 characters of letters, digits, "_" or "-", starting with a letter or digit',
  ],
  ['unknown data field', (e) => withField(e, 'data.cardNumber', '4111111111111111'), 'data.cardNumber', 'is not a known field'],
];

const orderShippedCases: BadCase[] = [
  ['tracking number too short', (e) => withField(e, 'data.trackingNumber', 'AB1'), 'data.trackingNumber', 'must be 5-40 letters, digits or "-"'],
  [
    'tracking number with spaces',
    (e) => withField(e, 'data.trackingNumber', 'AB 12345'),
    'data.trackingNumber',
    'must be 5-40 letters, digits or "-"',
  ],
  ['missing carrier', (e) => withoutField(e, 'data.carrier'), 'data.carrier', 'is required'],
  ['carrier longer than 64', (e) => withField(e, 'data.carrier', 'C'.repeat(65)), 'data.carrier', 'must be at most 64 characters'],
  ['empty warehouse id', (e) => withField(e, 'data.warehouseId', ''), 'data.warehouseId', 'must not be empty'],
  ['carrier not a string', (e) => withField(e, 'data.carrier', 42), 'data.carrier', 'must be a string'],
  ['data null', (e) => withField(e, 'data', null), 'data', 'must be an object'],
];

const orderCancelledCases: BadCase[] = [
  [
    'unknown reason',
    (e) => withField(e, 'data.reason', 'bored'),
    'data.reason',
    'must be one of customer_request, payment_failed, out_of_stock, fraud_suspected, other',
  ],
  ['reason "other" without a note', (e) => withoutField(e, 'data.note'), 'data.note', 'is required when reason is "other"'],
  ['note longer than 500', (e) => withField(e, 'data.note', 'n'.repeat(501)), 'data.note', 'must be at most 500 characters'],
  ['note with trailing newline', (e) => withField(e, 'data.note', 'changed mind\n'), 'data.note', 'must not start or end with whitespace'],
  [
    'order id with a slash',
    (e) => withField(e, 'data.orderId', 'ord/1'),
    'data.orderId',
    'must be 3-64 characters of letters, digits, "_" or "-", starting with a letter or digit',
  ],
  ['missing data', (e) => withoutField(e, 'data'), 'data', 'is required'],
];

function totalOf(event: OrderEvent): number {
  return (event.data as { totalMinor: number }).totalMinor;
}

describe.each([
  ['order.placed', orderPlacedCases],
  ['order.paid', orderPaidCases],
  ['order.shipped', orderShippedCases],
  ['order.cancelled', orderCancelledCases],
] as const)('%s rejects bad input with a readable error', (type, cases) => {
  it('has at least five kinds of bad input under test', () => {
    expect(cases.length).toBeGreaterThanOrEqual(5);
  });

  it.each(cases)('%s -> %s', (_label, make, path, message) => {
    const valid = validEvent(type);
    expect(registry.safeParse(valid).ok).toBe(true);
    const error = expectRejected(make(valid), path, message);
    expect(error.message).toMatch(new RegExp(`^invalid ${type.replace('.', '\\.')} v1: `));
  });
});

describe('cross-field rules', () => {
  it('order.cancelled accepts a note-less cancellation when the reason is not "other"', () => {
    const event = createFixtures({ seed: 3 }).orderCancelled({ reason: 'out_of_stock' });
    expect(event.data).not.toHaveProperty('note');
    expect(registry.safeParse(event).ok).toBe(true);
  });

  it('order.placed reports field errors, not a spurious total mismatch, when a line is malformed', () => {
    const valid = validEvent('order.placed');
    expectRejected(withField(valid, 'data.lines.0.quantity', 'two'), 'data.lines.0.quantity', 'must be an integer');
  });

  it('reports every problem of an event at once', () => {
    const valid = validEvent('order.paid');
    const input = withField(withField(valid, 'data.method', 'cash'), 'data.amountMinor', -5);
    const result = registry.safeParse(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.issues).toEqual(
      expect.arrayContaining([
        { path: 'data.amountMinor', message: 'must not be negative' },
        { path: 'data.method', message: 'must be one of card, paypal, bank_transfer, gift_card' },
      ]),
    );
    expect(result.error.issues).toHaveLength(2);
  });
});
