import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../schemas';
import { createFixtures } from '../../schemas/fixtures';
import { ISO_4217_CODES } from '../../schemas/iso4217';
import {
  AWS_WINDOW_STATE_LIMIT_BYTES,
  InvalidWindowStateError,
  MAX_RECENT_EVENT_IDS,
  WindowAccumulator,
  emptyWindowState,
  readWindowState,
  windowStateBytes,
} from '../../consumers/order-metrics/window-state';

/** Independent expectation: count by a plain loop over the same events. */
function expected(events: OrderEvent[]) {
  const counts = { placed: 0, paid: 0, shipped: 0, cancelled: 0 };
  const revenue: Record<string, number> = {};
  for (const e of events) {
    const key = e.type.slice('order.'.length) as keyof typeof counts;
    counts[key] += 1;
    if (e.type === 'order.paid') revenue[e.data.currency] = (revenue[e.data.currency] ?? 0) + e.data.amountMinor;
  }
  return { counts, revenue };
}

describe('order-metrics window state', () => {
  it('counts each event type and sums paid revenue per currency', () => {
    const events = createFixtures({ seed: 7 }).take(500);
    const acc = new WindowAccumulator();
    for (const e of events) acc.fold(e);
    const want = expected(events);
    expect({ placed: acc.state.placed, paid: acc.state.paid, shipped: acc.state.shipped, cancelled: acc.state.cancelled }).toEqual(want.counts);
    expect(acc.state.revenueMinor).toEqual(want.revenue);
    expect(Object.keys(acc.state.revenueMinor).length).toBeGreaterThan(1);
  });

  it('takes revenue from order.paid only (placed totals are not revenue)', () => {
    const f = createFixtures({ seed: 3 });
    const acc = new WindowAccumulator();
    acc.fold(f.orderPlaced());
    acc.fold(f.orderPaid({ amountMinor: 1250, currency: 'EUR' }));
    acc.fold(f.orderPaid({ amountMinor: 99, currency: 'EUR' }));
    acc.fold(f.orderPaid({ amountMinor: 700, currency: 'JPY' }));
    acc.fold(f.orderCancelled());
    expect(acc.state.revenueMinor).toEqual({ EUR: 1349, JPY: 700 });
    expect(acc.state.placed).toBe(1);
    expect(acc.state.cancelled).toBe(1);
  });

  it('continues a window from the state of the previous invocation, through JSON as Lambda carries it', () => {
    const events = createFixtures({ seed: 11 }).take(300);
    const first = new WindowAccumulator();
    for (const e of events.slice(0, 120)) first.fold(e);
    const carried = readWindowState(JSON.parse(JSON.stringify(first.state)));
    const second = new WindowAccumulator(carried);
    for (const e of events.slice(120)) second.fold(e);
    const whole = new WindowAccumulator();
    for (const e of events) whole.fold(e);
    expect(second.state).toEqual(whole.state);
  });

  it('skips a redelivered event inside the window and counts the skip', () => {
    const f = createFixtures({ seed: 5 });
    const paid = f.orderPaid({ amountMinor: 500, currency: 'USD' });
    const acc = new WindowAccumulator();
    expect(acc.fold(paid)).toBe(true);
    const next = new WindowAccumulator(readWindowState(JSON.parse(JSON.stringify(acc.state))));
    expect(next.fold(paid)).toBe(false);
    expect(next.state.paid).toBe(1);
    expect(next.state.revenueMinor).toEqual({ USD: 500 });
    expect(next.state.duplicatesSkipped).toBe(1);
  });

  it('keeps at most MAX_RECENT_EVENT_IDS ids, oldest dropped first', () => {
    const f = createFixtures({ seed: 9 });
    const acc = new WindowAccumulator();
    const events = Array.from({ length: MAX_RECENT_EVENT_IDS + 10 }, () => f.orderShipped());
    for (const e of events) acc.fold(e);
    expect(acc.state.recentEventIds).toHaveLength(MAX_RECENT_EVENT_IDS);
    expect(acc.state.recentEventIds[0]).toBe(events[10]!.id);
    // The oldest id fell out of the window of remembered ids: folding it again counts it.
    expect(acc.fold(events[0]!)).toBe(true);
    expect(acc.fold(events[events.length - 1]!)).toBe(false);
  });

  it('stays far below the 1 MB state limit in the worst case (every currency, full id list, huge counts)', () => {
    const state = emptyWindowState();
    state.placed = state.paid = state.shipped = state.cancelled = Number.MAX_SAFE_INTEGER;
    for (const code of ISO_4217_CODES) state.revenueMinor[code] = Number.MAX_SAFE_INTEGER;
    state.recentEventIds = Array.from({ length: MAX_RECENT_EVENT_IDS }, () => crypto.randomUUID());
    state.publishedWindowKey = `arn:aws:kinesis:eu-west-1:123456789012:stream/${'s'.repeat(128)}|shardId-000000000000|2026-01-01T00:00:00Z|2026-01-01T00:01:00Z`;
    expect(readWindowState(JSON.parse(JSON.stringify(state)))).toEqual(state);
    expect(windowStateBytes(state)).toBeLessThan(AWS_WINDOW_STATE_LIMIT_BYTES / 4);
  });

  it('treats a missing or empty state as a new window', () => {
    expect(readWindowState(undefined)).toEqual(emptyWindowState());
    expect(readWindowState(null)).toEqual(emptyWindowState());
    expect(readWindowState({})).toEqual(emptyWindowState());
  });

  it('rejects a state it did not write, naming the field', () => {
    expect(() => readWindowState({ v: 1, placed: -1 })).toThrow(InvalidWindowStateError);
    expect(() => readWindowState({ foo: 1 })).toThrow(/order-metrics state/);
    expect(() => readWindowState({ ...emptyWindowState(), revenueMinor: { EURO: 1 } })).toThrow(/revenueMinor/);
  });

  it('refuses a revenue sum beyond 2^53 instead of publishing a wrong figure', () => {
    const f = createFixtures({ seed: 2 });
    const state = emptyWindowState();
    state.revenueMinor.EUR = Number.MAX_SAFE_INTEGER - 10;
    const acc = new WindowAccumulator(state);
    expect(() => acc.fold(f.orderPaid({ amountMinor: 100, currency: 'EUR' }))).toThrow(RangeError);
    expect(acc.state.paid).toBe(0);
  });
});
