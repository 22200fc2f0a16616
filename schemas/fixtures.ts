/**
 * Seeded, deterministic fixtures: the same seed yields byte-identical events on every machine.
 * Used by tests, benchmarks and the local load generator.
 */
import type { OrderEvent, OrderEventOf } from './index';
import { CANCELLATION_REASONS } from './events/order-cancelled.v1';
import { PAYMENT_METHODS } from './events/order-paid.v1';
import type { CurrencyCode } from './iso4217';
import { mulberry32 } from './seeded-random';

export interface FixtureOptions {
  /** PRNG seed; same seed, same events. */
  seed?: number;
  /** Time of the first event (ms since epoch); each event advances it by 1-500 ms. */
  startTime?: number;
  source?: string;
}

/** An invalid event for exercising quarantine, labelled with what is wrong with it. */
export interface InvalidFixture {
  readonly kind: string;
  readonly value: unknown;
}

const CURRENCIES: readonly CurrencyCode[] = ['EUR', 'USD', 'GBP', 'SEK', 'JPY'];
const CARRIERS = ['DHL', 'UPS', 'FedEx', 'PostNL', 'Royal Mail'];
const CITIES = ['Berlin', 'Lyon', 'Leeds', 'Utrecht', 'Malmo', 'Porto'];
const COUNTRIES = ['DE', 'FR', 'GB', 'NL', 'SE', 'PT'];

export class FixtureGenerator {
  private readonly random: () => number;
  private clock: number;
  private readonly source: string;
  private orderCounter = 0;
  /** Orders placed but not yet finished, so `next()` produces realistic lifecycles per key. */
  private readonly open: { orderId: string; state: 'placed' | 'paid'; totalMinor: number; currency: CurrencyCode }[] = [];

  constructor(options: FixtureOptions = {}) {
    this.random = mulberry32(options.seed ?? 1);
    this.clock = options.startTime ?? Date.UTC(2026, 0, 1);
    this.source = options.source ?? 'fixtures';
  }

  /** The next event of a plausible order lifecycle: placed, then paid, then shipped or cancelled. */
  next(): OrderEvent {
    const advance = this.open.length > 0 && (this.open.length > 50 || this.random() < 0.6);
    if (!advance) return this.orderPlaced();
    const index = this.int(0, this.open.length - 1);
    const order = this.open[index]!;
    if (order.state === 'placed') {
      if (this.random() < 0.1) {
        this.open.splice(index, 1);
        return this.orderCancelled({ orderId: order.orderId });
      }
      order.state = 'paid';
      return this.orderPaid({ orderId: order.orderId, amountMinor: order.totalMinor, currency: order.currency });
    }
    this.open.splice(index, 1);
    return this.orderShipped({ orderId: order.orderId });
  }

  /** `count` events from `next()`. */
  take(count: number): OrderEvent[] {
    return Array.from({ length: count }, () => this.next());
  }

  orderPlaced(options: { lines?: number; orderId?: string } = {}): OrderEventOf<'order.placed'> {
    const lineCount = options.lines ?? this.int(1, 5);
    const lines = Array.from({ length: lineCount }, () => ({
      sku: `SKU-${this.int(10000, 99999)}`,
      quantity: this.int(1, 5),
      unitPriceMinor: this.int(100, 25000),
    }));
    const totalMinor = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0);
    const currency = this.pick(CURRENCIES);
    const orderId = options.orderId ?? this.orderId();
    const city = this.int(0, CITIES.length - 1);
    if (options.orderId === undefined) this.open.push({ orderId, state: 'placed', totalMinor, currency });
    return {
      ...this.envelope('order.placed'),
      data: {
        orderId,
        customer: { customerId: `cus_${this.hex(12)}`, email: `customer${this.int(1, 99999)}@example.com` },
        currency,
        lines,
        totalMinor,
        shippingAddress: {
          name: `Customer ${this.int(1, 9999)}`,
          line1: `${this.int(1, 400)} Example Street`,
          city: CITIES[city]!,
          postalCode: String(this.int(10000, 99999)),
          country: COUNTRIES[city]!,
        },
      },
    };
  }

  orderPaid(
    data: Partial<OrderEventOf<'order.paid'>['data']> = {},
  ): OrderEventOf<'order.paid'> {
    return {
      ...this.envelope('order.paid'),
      data: {
        orderId: data.orderId ?? this.orderId(),
        paymentId: data.paymentId ?? `pay_${this.hex(16)}`,
        amountMinor: data.amountMinor ?? this.int(100, 100000),
        currency: data.currency ?? this.pick(CURRENCIES),
        method: data.method ?? this.pick(PAYMENT_METHODS),
      },
    };
  }

  orderShipped(data: Partial<OrderEventOf<'order.shipped'>['data']> = {}): OrderEventOf<'order.shipped'> {
    return {
      ...this.envelope('order.shipped'),
      data: {
        orderId: data.orderId ?? this.orderId(),
        carrier: data.carrier ?? this.pick(CARRIERS),
        trackingNumber: data.trackingNumber ?? this.hex(18).toUpperCase(),
        ...(data.warehouseId !== undefined ? { warehouseId: data.warehouseId } : {}),
      },
    };
  }

  orderCancelled(data: Partial<OrderEventOf<'order.cancelled'>['data']> = {}): OrderEventOf<'order.cancelled'> {
    const reason = data.reason ?? this.pick(CANCELLATION_REASONS);
    return {
      ...this.envelope('order.cancelled'),
      data: {
        orderId: data.orderId ?? this.orderId(),
        reason,
        ...(reason === 'other' || data.note !== undefined ? { note: data.note ?? 'cancelled by support' } : {}),
      },
    };
  }

  /** An event that the contracts reject, with a label saying why (for quarantine drills). */
  invalid(): InvalidFixture {
    const kinds: (() => InvalidFixture)[] = [
      () => {
        const e = this.orderPlaced();
        e.data.totalMinor += 1;
        return { kind: 'total-mismatch', value: e };
      },
      () => {
        const e = this.orderPlaced();
        e.data.lines[0]!.quantity = 0;
        return { kind: 'zero-quantity', value: e };
      },
      () => ({ kind: 'unknown-type', value: { ...this.orderPaid(), type: 'order.refunded' } }),
      () => ({ kind: 'unknown-version', value: { ...this.orderShipped(), version: 9 } }),
      () => {
        const { data, ...rest } = this.orderPaid();
        const { currency: _currency, ...partial } = data;
        return { kind: 'missing-field', value: { ...rest, data: partial } };
      },
      () => ({ kind: 'bad-currency', value: { ...this.orderPaid(), data: { ...this.orderPaid().data, currency: 'EURO' } } }),
      () => ({ kind: 'bad-id', value: { ...this.orderCancelled(), id: 'not-a-uuid' } }),
    ];
    return kinds[this.int(0, kinds.length - 1)]!();
  }

  private envelope<T extends OrderEvent['type']>(type: T) {
    this.clock += this.int(1, 500);
    return {
      id: this.uuid(),
      type,
      version: 1 as const,
      occurredAt: new Date(this.clock).toISOString(),
      source: this.source,
      hops: 0,
    };
  }

  private orderId(): string {
    this.orderCounter += 1;
    return `ord_${this.hex(8)}${this.orderCounter.toString(36)}`;
  }

  /** RFC 4122 version-4 layout from the seeded PRNG. */
  private uuid(): string {
    const h = this.hex(32).split('');
    h[12] = '4';
    h[16] = '89ab'[this.int(0, 3)]!;
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  private hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.random() * 0x100000000).toString(16).padStart(8, '0');
    return out.slice(0, length);
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private pick<T>(values: readonly T[]): T {
    return values[this.int(0, values.length - 1)]!;
  }
}

export function createFixtures(options: FixtureOptions = {}): FixtureGenerator {
  return new FixtureGenerator(options);
}
